package models

import (
	"fmt"
	"strings"
)

// run reads the document from src section by section and validates (and,
// while the import has no problem and is no dry run, stores) each a batch
// of records at a time as it is read, once the sections it names are read:
// organizations and products at once, agreements once the organizations
// are, entitlements, keys and orders once the agreements and products
// are. A section read before those it names is held in a spool (see
// spool) until they are read, or the document ends; a key naming stored
// records is not. So a document in the example's order is read once and
// held nowhere, and one in any other order written once more to a file.
// The transaction makes it all or nothing.
func (im *importer) run(src importSource) error {
	if err := im.loadCatalog(); err != nil {
		return err
	}
	for {
		name, err := src.section()
		if err != nil {
			return err
		}
		if name == "" {
			im.ending = true
			return im.catchUp()
		}
		if err := im.section(src, name); err != nil {
			return err
		}
	}
}

// section reads the section name from src: it validates and stores it as
// it is read, or holds it when it names sections not read yet.
func (im *importer) section(src importSource, name string) error {
	switch {
	case name == "keys":
		return im.readKeys(src)
	case !im.ready(name):
		return im.hold(src, name)
	}
	if err := im.stream(src, name); err != nil {
		return err
	}
	return im.catchUp()
}

// ready reports whether the sections a section names are validated.
func (im *importer) ready(name string) bool {
	switch name {
	case "agreements":
		return im.ending || im.done["organizations"]
	case "entitlements", "keys", "orders":
		return im.ending || im.done["agreements"] && im.done["products"]
	}
	return true
}

// stream validates and stores the section name read from src.
func (im *importer) stream(src importSource, name string) error {
	var err error
	switch name {
	case "organizations":
		err = inBatches(src, im.organizationBatch)
	case "agreements":
		err = im.streamAgreements(src)
	case "products":
		err = im.readProducts(src)
	case "entitlements":
		err = inBatches(src, im.entitlementBatch)
	case "orders":
		err = inBatches(src, im.orderBatch)
	}
	im.done[name] = true
	return err
}

// hold writes the section name read from src to a spool, until what it
// names is read.
func (im *importer) hold(src importSource, name string) error {
	s, err := newSpool()
	if err != nil {
		return err
	}
	im.held[name] = s
	switch name {
	case "agreements":
		return holdSection[ImportAgreement](src, s)
	case "entitlements":
		return holdSection[ImportEntitlement](src, s)
	}
	return holdSection[ImportOrder](src, s)
}

// catchUp validates and stores the held sections, and the keys that had
// to wait, once what they name is read.
func (im *importer) catchUp() error {
	for _, name := range []string{"agreements", "entitlements", "orders"} {
		s := im.held[name]
		if s == nil || !im.ready(name) {
			continue
		}
		delete(im.held, name)
		src, err := s.records()
		if err == nil {
			err = im.stream(src, name)
		}
		s.close()
		if err != nil {
			return err
		}
	}
	if im.deferred == nil || !im.ready("keys") {
		return nil
	}
	s := im.deferred
	im.deferred = nil
	defer s.close()
	src, err := s.records()
	if err != nil {
		return err
	}
	return inBatches(src, func(_ int, keys []heldKey) error { return im.planKeys(keys, nil) })
}

// close lets go of the records still held (after an error).
func (im *importer) close() {
	for _, s := range im.held {
		s.close()
	}
	if im.deferred != nil {
		im.deferred.close()
	}
}

// inBatches hands the records of the current section of src to each, a
// batch at a time, with the index of the batch's first record. each must
// not keep the batch, whose array is reused.
func inBatches[T any](src importSource, each func(first int, batch []T) error) error {
	batch := make([]T, 0, importBatch)
	for first := 0; ; {
		var v T
		ok, err := src.record(&v)
		if err != nil {
			return err
		}
		if ok {
			batch = append(batch, v)
		}
		if len(batch) > 0 && (len(batch) == cap(batch) || !ok) {
			if err := each(first, batch); err != nil {
				return err
			}
			first += len(batch)
			clear(batch)
			batch = batch[:0]
		}
		if !ok {
			return nil
		}
	}
}

// writing reports whether the import stores what it plans: not in a dry
// run, nor once a problem is found (the rest is still validated).
func (im *importer) writing() bool { return !im.dryRun && len(im.problems) == 0 }

// readKeys reads the keys section a batch at a time.
func (im *importer) readKeys(src importSource) error {
	return inBatches(src, func(first int, keys []ImportKey) error {
		batch := make([]heldKey, len(keys))
		for i, k := range keys {
			batch[i] = heldKey{first + i, k}
		}
		return im.keyBatch(batch)
	})
}

// keyBatch plans (and stores) a batch of keys once the agreements and
// products are read. Before, only keys of stored agreements and products
// can be: the others wait, in a spool, for those sections (or the end of
// the document), since it may declare what they name further on.
func (im *importer) keyBatch(batch []heldKey) error {
	if im.ready("keys") {
		return im.planKeys(batch, nil)
	}
	refs, err := im.agreementRefs(keyAgreements(batch))
	if err != nil {
		return err
	}
	var ready []heldKey
	for _, k := range batch {
		if refs[strings.TrimSpace(k.K.Agreement)] != 0 && im.products[strings.TrimSpace(k.K.Product)] != nil {
			ready = append(ready, k)
			continue
		}
		if im.deferred == nil {
			if im.deferred, err = newSpool(); err != nil {
				return err
			}
		}
		if err := im.deferred.add(k); err != nil {
			return fmt.Errorf("hold records: %w", err)
		}
	}
	return im.planKeys(ready, refs)
}

// planKeys validates and plans a batch of keys against the stored ones
// they name and, while the import is clean, stores them. refs, when not
// nil, are the agreements the batch names.
func (im *importer) planKeys(batch []heldKey, refs map[string]int64) error {
	if len(batch) == 0 {
		return nil
	}
	if refs == nil {
		var err error
		if refs, err = im.agreementRefs(keyAgreements(batch)); err != nil {
			return err
		}
	}
	cands := make([]keyCandidate, 0, len(batch))
	for _, k := range batch {
		im.text.walkRecord("keys", k.I, &k.K)
		if c, ok := im.validateKey(k.I, k.K, refs); ok {
			cands = append(cands, c)
		}
	}
	stored, err := im.storedKeysOf(cands, refs)
	if err != nil {
		return err
	}
	for _, c := range cands {
		im.planKey(c, stored[c.key])
	}
	if im.writing() {
		err = im.applyKeys(refs)
	}
	im.keyRows = im.keyRows[:0]
	return err
}

func keyAgreements(batch []heldKey) []string {
	out := make([]string, len(batch))
	for i, k := range batch {
		out[i] = strings.TrimSpace(k.K.Agreement)
	}
	return out
}

// checkRecordsText reports the strings of a batch of a section's records,
// the first at index first, that break the one-line free-text rule (see
// text.go) as they would be stored, that is trimmed; the other checks then
// report nothing more for those fields.
func checkRecordsText[T any](im *importer, section string, first int, records []T) {
	for i := range records {
		im.text.walkRecord(section, first+i, &records[i])
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
