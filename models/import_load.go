package models

import (
	"strings"

	"gorm.io/gorm"
)

// loadCatalog reads the stored products and versions: the catalog stays
// small however many customers there are.
func (im *importer) loadCatalog() error {
	db := im.tx.db
	var products []Product
	if err := db.Find(&products).Error; err != nil {
		return err
	}
	im.products = make(map[string]*Product, len(products))
	im.productCodes = make(map[int64]string, len(products))
	for i := range products {
		im.products[products[i].Code] = &products[i]
		im.productCodes[products[i].ID] = products[i].Code
	}
	var versions []ProductVersion
	if err := db.Find(&versions).Error; err != nil {
		return err
	}
	im.versions = make(map[versionKey]*ProductVersion, len(versions))
	im.byProduct = make(map[string][]versionKey)
	for i := range versions {
		v := &versions[i]
		k := versionKey{im.productCodes[v.ProductID], v.Version, v.Edition}
		im.versions[k] = v
		im.byProduct[k.product] = append(im.byProduct[k.product], k)
	}
	return nil
}

// loadFiles reads the stored files of the versions of products.
func (im *importer) loadFiles(products []ImportProduct) error {
	keys := make(map[int64]versionKey)
	for _, p := range products {
		for _, k := range im.byProduct[strings.TrimSpace(p.ID)] {
			keys[im.versions[k].ID] = k
		}
	}
	return findIn(im.tx.db, nil, "version_id", keysOf(keys), func(f *ProductFile) {
		im.files[fileKey{keys[f.VersionID], f.Name}] = f
	})
}

// agreementRefs returns the agreements among numbers that the document
// lists or the database holds, with their ids (0 for one of the document
// not stored yet). It asks the database only for those the document does
// not list, and keeps nothing of them.
func (im *importer) agreementRefs(numbers []string) (map[string]int64, error) {
	refs := make(map[string]int64, len(numbers))
	var want []string
	for _, n := range numbers {
		if e, ok := im.docAgreements.get(n); ok {
			refs[n] = e.id
		} else if n != "" {
			want = append(want, n)
		}
	}
	stored, err := idsByKey(im.tx.db, "agreements", "number", distinct(want))
	if err != nil {
		return nil, err
	}
	for n, id := range stored {
		refs[n] = id
	}
	return refs, nil
}

// storedIDs are the ids of refs' agreements that are stored (not 0).
func storedIDs(refs map[string]int64) []int64 {
	ids := make([]int64, 0, len(refs))
	for _, id := range refs {
		if id != 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// storedKeysOf reads the stored keys a batch of keys names, whose
// agreements' ids are refs. It asks for the keys of the batch's agreements
// with the batch's fingerprints (two plain IN lists, which PostgreSQL
// plans in no time, where a list of 500 row values took it 300 ms) and
// keeps those the batch names.
func (im *importer) storedKeysOf(cands []keyCandidate, refs map[string]int64) (map[keyKey]*ProductKey, error) {
	type ids struct {
		agreement, product int64
		fingerprint        string
	}
	want := make(map[ids]keyKey, len(cands))
	var agreements []int64
	var fingerprints []string
	for _, c := range cands {
		a := refs[c.key.agreement]
		if p := im.products[c.key.product]; a != 0 && p != nil && p.ID != 0 {
			want[ids{a, p.ID, c.key.fingerprint}] = c.key
			agreements, fingerprints = append(agreements, a), append(fingerprints, c.key.fingerprint)
		}
	}
	out := make(map[keyKey]*ProductKey, len(want))
	if len(want) == 0 {
		return out, nil
	}
	var keys []ProductKey
	err := im.tx.db.Select("id", "agreement_id", "product_id", "key_type", "fingerprint", "suffix",
		"activation_limit", "activations_used", "activations_as_of", "status", "block_reason", "status_changed_at").
		Where("agreement_id IN ? AND fingerprint IN ?", distinct(agreements), fingerprints).Find(&keys).Error
	if err != nil {
		return nil, err
	}
	for i := range keys {
		k := &keys[i]
		if key, ok := want[ids{k.AgreementID, k.ProductID, k.Fingerprint}]; ok {
			out[key] = k
		}
	}
	return out, nil
}

// findIn reads the rows of T whose column is one of values, a batch at a
// time, and hands each to each.
// With cols, only those columns are read.
func findIn[T any, V comparable](db *gorm.DB, cols []string, column string, values []V, each func(*T)) error {
	for _, chunk := range chunks(distinct(values), importBatch) {
		q := db.Where(column+" IN ?", chunk)
		if cols != nil {
			q = q.Select(cols)
		}
		var rows []T
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			each(&rows[i])
		}
	}
	return nil
}

// distinct returns values without repeats.
func distinct[V comparable](values []V) []V {
	seen := make(map[V]bool, len(values))
	out := values[:0:0]
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
