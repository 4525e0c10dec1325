package models

import (
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// applyCatalog stores the planned products, versions and files, and
// notes the ids of every product and version.
func (im *importer) applyCatalog(db *gorm.DB) error {
	if err := upsert(db, im.productRows, []string{"code"}, "name", "updated_at"); err != nil {
		return fmt.Errorf("store products: %w", err)
	}
	var products []Product
	if err := db.Select("id", "code").Find(&products).Error; err != nil {
		return err
	}
	productIDs := make(map[string]int64, len(products))
	for _, p := range products {
		productIDs[p.Code] = p.ID
	}
	vrows := make([]ProductVersion, 0, len(im.versionRows))
	for _, v := range im.versionRows {
		vrows = append(vrows, ProductVersion{
			ProductID: productIDs[v.key.product], Version: v.key.version, Edition: v.key.edition,
			Released: v.released, CreatedAt: im.now, UpdatedAt: im.now,
		})
	}
	if err := upsert(db, vrows, []string{"product_id", "version", "edition"}, "released", "updated_at"); err != nil {
		return fmt.Errorf("store product versions: %w", err)
	}
	versionIDs, err := im.versionIDs(db, productIDs)
	if err != nil {
		return err
	}
	frows := make([]ProductFile, 0, len(im.fileRows))
	for _, f := range im.fileRows {
		frows = append(frows, ProductFile{
			VersionID: versionIDs[f.version], Name: f.file.Name, Language: f.file.Language, Size: f.file.Size,
			SHA256: f.file.SHA256, Path: f.file.Path, CreatedAt: im.now, UpdatedAt: im.now,
		})
	}
	if err := upsert(db, frows, []string{"version_id", "name"}, "language", "size", "sha256", "path", "updated_at"); err != nil {
		return fmt.Errorf("store product files: %w", err)
	}
	im.products = make(map[string]*Product, len(productIDs))
	for code, id := range productIDs {
		im.products[code] = &Product{ID: id, Code: code}
	}
	im.versions = make(map[versionKey]*ProductVersion, len(versionIDs))
	for k, id := range versionIDs {
		im.versions[k] = &ProductVersion{ID: id}
	}
	return nil
}

func (im *importer) versionIDs(db *gorm.DB, productIDs map[string]int64) (map[versionKey]int64, error) {
	codes := make(map[int64]string, len(productIDs))
	for c, id := range productIDs {
		codes[id] = c
	}
	var versions []ProductVersion
	if err := db.Select("id", "product_id", "version", "edition").Find(&versions).Error; err != nil {
		return nil, err
	}
	out := make(map[versionKey]int64, len(versions))
	for _, v := range versions {
		out[versionKey{codes[v.ProductID], v.Version, v.Edition}] = v.ID
	}
	return out, nil
}

// applyKeys stores the planned keys of a batch, sealing the new ones;
// refs are the ids of the agreements they name.
func (im *importer) applyKeys(refs map[string]int64) error {
	var created, updated []ProductKey
	for _, k := range im.keyRows {
		row := k.row
		row.AgreementID = refs[k.key.agreement]
		row.ProductID = im.products[k.key.product].ID
		if k.isNew {
			row.SealedKey = im.keys.SealKey(k.material, row.Fingerprint)
			created = append(created, row)
		} else {
			row.SealedKey = []byte{} // not written: the conflict update leaves it
			updated = append(updated, row)
		}
	}
	db := im.tx.db
	if len(created) > 0 {
		if err := db.CreateInBatches(created, importBatch).Error; err != nil {
			return fmt.Errorf("store product keys: %w", err)
		}
	}
	err := upsert(db, updated, []string{"agreement_id", "product_id", "fingerprint"},
		"key_type", "activation_limit", "activations_used", "activations_as_of",
		"status", "block_reason", "status_changed_at", "updated_at")
	if err != nil {
		return fmt.Errorf("update product keys: %w", err)
	}
	return nil
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// upsert inserts rows in batches; a row whose conflict columns match a
// stored row updates that row's update columns instead.
func upsert[T any](db *gorm.DB, rows []T, conflict []string, update ...string) error {
	if len(rows) == 0 {
		return nil
	}
	cols := make([]clause.Column, len(conflict))
	for i, c := range conflict {
		cols[i] = clause.Column{Name: c}
	}
	return db.Clauses(clause.OnConflict{Columns: cols, DoUpdates: clause.AssignmentColumns(update)}).
		CreateInBatches(rows, importBatch).Error
}

// idsByKey returns the ids of the rows of table whose column is in keys.
func idsByKey[K comparable](db *gorm.DB, table, column string, keys []K) (map[K]int64, error) {
	out := make(map[K]int64, len(keys))
	for _, chunk := range chunks(keys, importBatch) {
		var rows []struct {
			ID  int64
			Key K
		}
		err := db.Table(table).Select("id, "+column+" AS key").Where(column+" IN ?", chunk).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("read back %s ids: %w", table, err)
		}
		for _, r := range rows {
			out[r.Key] = r.ID
		}
	}
	return out, nil
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

func keysOf[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func numbersOf(as []Agreement) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Number
	}
	return out
}
