package models

import (
	"crypto/sha256"
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

// load reads the stored records the document's organizations, agreements
// and products name, with what the plan compares them to.
func (im *importer) load() error {
	var orgs, agreements []string
	for _, o := range im.doc.Organizations {
		orgs = append(orgs, strings.TrimSpace(o.Number))
	}
	for _, a := range im.doc.Agreements {
		orgs = append(orgs, strings.TrimSpace(a.Organization))
		agreements = append(agreements, strings.TrimSpace(a.Number), strings.TrimSpace(a.Parent))
	}
	db := im.tx.db
	err := findIn(db, nil, "number", orgs, func(o *Organization) {
		im.orgs[o.Number], im.orgByID[o.ID] = o, o.Number
	})
	if err != nil {
		return err
	}
	if err := im.loadAgreements(agreements); err != nil {
		return err
	}
	// The organizations and parents of the stored agreements, and their contacts.
	var orgIDs, parentIDs, ids []int64
	for _, a := range im.agreements {
		orgIDs, ids = append(orgIDs, a.OrganizationID), append(ids, a.ID)
		if a.ParentID != nil {
			parentIDs = append(parentIDs, *a.ParentID)
		}
	}
	err = findIn(db, []string{"id", "number"}, "id", orgIDs, func(o *Organization) { im.orgByID[o.ID] = o.Number })
	if err != nil {
		return err
	}
	err = findIn(db, []string{"id", "number"}, "id", parentIDs, func(a *Agreement) { im.agrByID[a.ID] = a.Number })
	if err != nil {
		return err
	}
	err = findIn(db, nil, "agreement_id", ids, func(c *AgreementContact) {
		im.contacts[c.AgreementID] = append(im.contacts[c.AgreementID], *c)
	})
	if err != nil {
		return err
	}
	return im.loadFiles()
}

// loadFiles reads the stored files of the versions of the document's products.
func (im *importer) loadFiles() error {
	keys := make(map[int64]versionKey)
	for _, p := range im.doc.Products {
		for _, k := range im.byProduct[strings.TrimSpace(p.ID)] {
			keys[im.versions[k].ID] = k
		}
	}
	return findIn(im.tx.db, nil, "version_id", keysOf(keys), func(f *ProductFile) {
		im.files[fileKey{keys[f.VersionID], f.Name}] = f
	})
}

// loadAgreements reads the stored agreements among numbers that are not
// read yet.
func (im *importer) loadAgreements(numbers []string) error {
	var want []string
	for _, n := range numbers {
		if _, known := im.agreementIDs[n]; n == "" || known || im.absent[n] {
			continue
		}
		im.absent[n] = true
		want = append(want, n)
	}
	return findIn(im.tx.db, nil, "number", want, func(a *Agreement) {
		im.agreements[a.Number], im.agrByID[a.ID], im.agreementIDs[a.Number] = a, a.Number, a.ID
		delete(im.absent, a.Number)
	})
}

// loadForRest reads the stored agreements the entitlements and orders
// name, and their stored entitlements and order lines.
func (im *importer) loadForRest() error {
	var numbers []string
	for _, e := range im.doc.Entitlements {
		numbers = append(numbers, strings.TrimSpace(e.Agreement))
	}
	for _, o := range im.doc.Orders {
		numbers = append(numbers, strings.TrimSpace(o.Agreement))
	}
	if err := im.loadAgreements(numbers); err != nil {
		return err
	}
	ids := map[int64]bool{}
	for _, n := range numbers {
		if a := im.agreements[n]; a != nil {
			ids[a.ID] = true
		}
	}
	db := im.tx.db
	err := findIn(db, []string{"agreement_id", "version_id"}, "agreement_id", keysOf(ids), func(e *Entitlement) {
		im.entitled[[2]int64{e.AgreementID, e.VersionID}] = true
	})
	if err != nil {
		return err
	}
	return findIn(db, nil, "agreement_id", keysOf(ids), func(o *Order) {
		im.storedOrders[orderKey{im.agrByID[o.AgreementID], o.Number, im.productCodes[o.ProductID], o.Version, o.Edition}] = o
	})
}

// storedKeysOf reads the stored keys a batch of keys names. It asks for
// the keys of the batch's agreements with the batch's fingerprints (two
// plain IN lists, which PostgreSQL plans in no time, where a list of
// 500 row values took it 300 ms) and keeps those the batch names.
func (im *importer) storedKeysOf(cands []keyCandidate) (map[keyKey]*ProductKey, error) {
	want := make(map[keyKey]bool, len(cands))
	var agreements []int64
	var fingerprints []string
	for _, c := range cands {
		a, aok := im.agreementIDs[c.key.agreement]
		if p := im.products[c.key.product]; aok && p != nil && p.ID != 0 {
			want[c.key] = true
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
		if key := (keyKey{im.agrByID[k.AgreementID], im.productCodes[k.ProductID], k.Fingerprint}); want[key] {
			out[key] = k
		}
	}
	return out, nil
}

// keyHash identifies a keyKey in the duplicate check, in less memory than
// the key itself.
func keyHash(k keyKey) [16]byte {
	sum := sha256.Sum256([]byte(k.agreement + "\x00" + k.product + "\x00" + k.fingerprint))
	return [16]byte(sum[:16])
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
