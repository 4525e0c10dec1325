package models

import "strings"

// run reads the document from src section by section. Organizations,
// agreements and products are validated (and, while the import has no
// problem and is no dry run, stored) once read; keys are validated and
// stored a batch at a time as they are read; entitlements and orders at
// the end. The transaction makes it all or nothing.
func (im *importer) run(src importSource) error {
	if err := im.loadCatalog(); err != nil {
		return err
	}
	for {
		name, err := src.section()
		if err != nil {
			return err
		}
		im.read[name] = true
		switch name {
		case "":
			return im.finish()
		case "keys":
			err = im.readKeys(src)
		default:
			err = readSection(src, im.doc, name)
		}
		if err != nil {
			return err
		}
	}
}

// writing reports whether the import stores what it plans: not in a dry
// run, nor once a problem is found (the rest is still validated).
func (im *importer) writing() bool { return !im.dryRun && len(im.problems) == 0 }

// prepare validates, plans and stores the organizations, agreements and
// products read, and then lets go of them: the rest of the import needs
// only their numbers and ids.
func (im *importer) prepare() error {
	im.prepared = true
	if err := im.load(); err != nil {
		return err
	}
	checkRecordsText(im, "organizations", im.doc.Organizations)
	checkRecordsText(im, "agreements", im.doc.Agreements)
	checkRecordsText(im, "products", im.doc.Products)
	im.validateOrganizations()
	im.validateAgreements()
	im.validateProducts()
	im.doc.Organizations, im.doc.Agreements = nil, nil // planned
	if im.writing() {
		if err := im.applyPrepared(); err != nil {
			return err
		}
		// Every agreement of the document, and every one looked up, is
		// stored now: its number and id are all that is kept of it.
		im.docAgreements, im.absent = nil, map[string]bool{}
	}
	im.doc.Products = nil
	im.orgRows, im.agreementRows, im.contactAdd, im.contactDel = nil, nil, nil, nil
	im.productRows, im.versionRows, im.fileRows, im.contacts, im.files = nil, nil, nil, nil, nil
	return nil
}

// finish validates and stores what is left at the end of the document:
// the keys that had to wait, the entitlements and the orders.
func (im *importer) finish() error {
	if !im.prepared {
		if err := im.prepare(); err != nil {
			return err
		}
	}
	deferred := im.deferred
	im.deferred = nil
	for _, batch := range chunks(deferred, importBatch) {
		if err := im.planKeys(batch); err != nil {
			return err
		}
	}
	if err := im.loadForRest(); err != nil {
		return err
	}
	checkRecordsText(im, "entitlements", im.doc.Entitlements)
	checkRecordsText(im, "orders", im.doc.Orders)
	im.validateEntitlements()
	im.validateOrders()
	if !im.writing() {
		return nil
	}
	return im.applyRest()
}

// indexedKey is a key record with its index in the document.
type indexedKey struct {
	index int
	key   ImportKey
}

// readKeys reads the keys section a batch at a time.
func (im *importer) readKeys(src importSource) error {
	batch := make([]indexedKey, 0, importBatch)
	for i := 0; ; i++ {
		var k ImportKey
		ok, err := src.record(&k)
		if err != nil {
			return err
		}
		if ok {
			batch = append(batch, indexedKey{i, k})
		}
		if len(batch) > 0 && (len(batch) == cap(batch) || !ok) {
			if err := im.keyBatch(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		if !ok {
			return nil
		}
	}
}

// keyBatch plans (and stores) a batch of keys once the organizations,
// agreements and products are read. Before, only keys of stored
// agreements and products can be: the others wait for the end of the
// document, since it may declare what they name further on.
func (im *importer) keyBatch(batch []indexedKey) error {
	if !im.prepared && im.read["organizations"] && im.read["agreements"] && im.read["products"] {
		if err := im.prepare(); err != nil {
			return err
		}
	}
	if im.prepared {
		return im.planKeys(batch)
	}
	if err := im.loadAgreements(keyAgreements(batch)); err != nil {
		return err
	}
	var ready []indexedKey
	for _, k := range batch {
		if im.agreements[strings.TrimSpace(k.key.Agreement)] != nil && im.products[strings.TrimSpace(k.key.Product)] != nil {
			ready = append(ready, k)
		} else {
			im.deferred = append(im.deferred, k)
		}
	}
	return im.planKeys(ready)
}

// planKeys validates and plans a batch of keys against the stored ones
// they name and, while the import is clean, stores them.
func (im *importer) planKeys(batch []indexedKey) error {
	if len(batch) == 0 {
		return nil
	}
	if err := im.loadAgreements(keyAgreements(batch)); err != nil {
		return err
	}
	cands := make([]keyCandidate, 0, len(batch))
	for _, k := range batch {
		im.text.walkRecord("keys", k.index, &k.key)
		if c, ok := im.validateKey(k.index, k.key); ok {
			cands = append(cands, c)
		}
	}
	stored, err := im.storedKeysOf(cands)
	if err != nil {
		return err
	}
	for _, c := range cands {
		im.planKey(c, stored[c.key])
	}
	if im.writing() {
		err = im.applyKeys()
	}
	im.keyRows = im.keyRows[:0]
	return err
}

func keyAgreements(batch []indexedKey) []string {
	out := make([]string, len(batch))
	for i, k := range batch {
		out[i] = strings.TrimSpace(k.key.Agreement)
	}
	return out
}

// checkRecordsText reports the strings of a section's records that break the
// one-line free-text rule (see text.go) as they would be stored, that is
// trimmed; the other checks then report nothing more for those fields.
func checkRecordsText[T any](im *importer, section string, records []T) {
	for i := range records {
		im.text.walkRecord(section, i, &records[i])
	}
}

// countingSource tells progress how many records were read.
type countingSource struct {
	importSource
	n        int
	progress func(records int)
}

func (c *countingSource) section() (string, error) {
	name, err := c.importSource.section()
	if name == "" && err == nil {
		c.progress(c.n)
	}
	return name, err
}

func (c *countingSource) record(v any) (bool, error) {
	ok, err := c.importSource.record(v)
	if ok {
		c.n++
		if c.n%1000 == 0 {
			c.progress(c.n)
		}
	}
	return ok, err
}
