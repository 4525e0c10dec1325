package models

import (
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
	"gorm.io/gorm/clause"
)

// readProducts reads the products section, which stays small, validates
// it and, while the import is clean, stores it.
func (im *importer) readProducts(src importSource) error {
	var products []ImportProduct
	if err := readAll(src, &products); err != nil {
		return err
	}
	checkRecordsText(im, "products", 0, products)
	if err := im.loadFiles(products); err != nil {
		return err
	}
	im.validateProducts(products)
	var err error
	if im.writing() {
		err = im.applyCatalog(im.tx.db)
	}
	im.productRows, im.versionRows, im.fileRows, im.files = nil, nil, nil, nil
	return err
}

func (im *importer) validateProducts(products []ImportProduct) {
	seen := make(map[string]int, len(products))
	for i, pr := range products {
		p := fmt.Sprintf("products[%d]", i)
		code, name := strings.TrimSpace(pr.ID), strings.TrimSpace(pr.Name)
		if !productIDPattern.MatchString(code) {
			im.problem(p+".id", "err.import.product_id", "%s; use 1 to 64 lower-case letters, digits, '.', '_' or '-'", describe(pr.ID))
			continue
		}
		if j, dup := seen[code]; dup {
			im.problem(p+".id", "err.import.product_twice", "product %q is listed twice (first at products[%d])", code, j)
			continue
		}
		seen[code] = i
		im.docProducts[code] = true
		if name == "" || utf8.RuneCountInString(name) > 200 {
			im.problem(p+".name", "err.import.product_name", "give the product's name (1 to 200 characters)")
		}
		stored := im.products[code]
		switch {
		case stored == nil:
			im.res.Products.Created++
			im.productRows = append(im.productRows, Product{Code: code, Name: name, CreatedAt: im.now, UpdatedAt: im.now})
		case stored.Name != name:
			im.res.Products.Updated++
			im.productRows = append(im.productRows, Product{Code: code, Name: name, CreatedAt: im.now, UpdatedAt: im.now})
		default:
			im.res.Products.Unchanged++
		}
		for j, v := range pr.Versions {
			im.validateVersion(fmt.Sprintf("%s.versions[%d]", p, j), code, v)
		}
	}
}

func (im *importer) validateVersion(p, code string, v ImportVersion) {
	key := versionKey{code, strings.TrimSpace(v.Version), strings.TrimSpace(v.Edition)}
	if key.version == "" || utf8.RuneCountInString(key.version) > 64 {
		im.problem(p+".version", "err.import.version", "give the version (1 to 64 characters), such as \"11 24H2\"")
		return
	}
	if utf8.RuneCountInString(key.edition) > 64 {
		im.problem(p+".edition", "err.import.edition", "the edition is longer than 64 characters")
		return
	}
	if im.docVersions[key] {
		im.problem(p, "err.import.version_twice", "version %q edition %q of product %q is listed twice", key.version, key.edition, code)
		return
	}
	im.docVersions[key] = true
	if im.versions[key] == nil {
		im.byProduct[code] = append(im.byProduct[code], key)
	}
	released := im.date(p+".released", v.Released)
	stored := im.versions[key]
	switch {
	case stored == nil:
		im.res.Versions.Created++
		im.versionRows = append(im.versionRows, versionPlan{key, released})
	case !stored.Released.Equal(released):
		im.res.Versions.Updated++
		im.versionRows = append(im.versionRows, versionPlan{key, released})
	default:
		im.res.Versions.Unchanged++
	}
	im.validateFiles(p, key, v.Files)
}

// validateFiles checks the files of the version at path p and plans those
// that are new or changed.
func (im *importer) validateFiles(p string, key versionKey, files []ImportFile) {
	names := map[string]int{}
	for k, f := range files {
		fp := fmt.Sprintf("%s.files[%d]", p, k)
		f.Name, f.Path, f.SHA256 = strings.TrimSpace(f.Name), strings.TrimSpace(f.Path), strings.ToLower(strings.TrimSpace(f.SHA256))
		ok := true
		if f.Name == "" || strings.ContainsAny(f.Name, "/\\\"") || utf8.RuneCountInString(f.Name) > 255 {
			im.problem(fp+".name", "err.import.file_name", "%s; give a file name without '/', '\\' or '\"' (1 to 255 characters)", describe(f.Name))
			ok = false
		} else if l, dup := names[f.Name]; dup {
			im.problem(fp+".name", "err.import.file_twice", "file %q is listed twice in this version (first at files[%d])", f.Name, l)
			ok = false
		}
		names[f.Name] = k
		if tag, err := language.Parse(f.Language); err != nil || f.Language == "" {
			im.problem(fp+".language", "err.import.file_language", "%s is not a language tag such as \"ja\" or \"en-US\"", describe(f.Language))
			ok = false
		} else {
			f.Language = tag.String()
		}
		if f.Size < 0 {
			im.problem(fp+".size", "err.import.file_size", "the size is negative")
			ok = false
		}
		if !sha256Pattern.MatchString(f.SHA256) {
			im.problem(fp+".sha256", "err.import.file_sha256", "give the SHA-256 of the file as 64 hexadecimal digits")
			ok = false
		}
		if f.Path == "" || path.IsAbs(f.Path) || strings.Contains(f.Path, "\\") || path.Clean(f.Path) != f.Path || strings.HasPrefix(f.Path, "../") || f.Path == ".." {
			im.problem(fp+".path", "err.import.file_path", "%s; give a clean path relative to the storage directory, such as \"win/11/ja.iso\"", describe(f.Path))
			ok = false
		}
		if !ok {
			continue
		}
		sf := im.files[fileKey{key, f.Name}]
		switch {
		case sf == nil:
			im.res.Files.Created++
		case sf.Language != f.Language || sf.Size != f.Size || sf.SHA256 != f.SHA256 || sf.Path != f.Path:
			im.res.Files.Updated++
		default:
			im.res.Files.Unchanged++
			continue
		}
		im.fileRows = append(im.fileRows, filePlan{key, f})
	}
}

// entitlementBatch validates a batch of entitlements, the first at index
// first, against the stored ones and, while the import is clean, stores
// the new ones.
func (im *importer) entitlementBatch(first int, batch []ImportEntitlement) error {
	checkRecordsText(im, "entitlements", first, batch)
	numbers := make([]string, len(batch))
	for i, e := range batch {
		numbers[i] = strings.TrimSpace(e.Agreement)
	}
	refs, err := im.agreementRefs(numbers)
	if err != nil {
		return err
	}
	entitled := map[[2]int64]bool{}
	err = findIn(im.tx.db, []string{"agreement_id", "version_id"}, "agreement_id", storedIDs(refs), func(e *Entitlement) {
		entitled[[2]int64{e.AgreementID, e.VersionID}] = true
	})
	if err != nil {
		return err
	}
	var rows []Entitlement
	for i, e := range batch {
		rows = im.validateEntitlement(first+i, e, refs, entitled, rows)
	}
	if !im.writing() || len(rows) == 0 {
		return nil
	}
	if err := im.tx.db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, importBatch).Error; err != nil {
		return fmt.Errorf("store entitlements: %w", err)
	}
	return nil
}

// validateEntitlement checks the entitlement at index i and appends to
// rows those of the versions it names that are not stored yet; entitled
// are the stored entitlements of its batch.
func (im *importer) validateEntitlement(i int, e ImportEntitlement, refs map[string]int64, entitled map[[2]int64]bool, rows []Entitlement) []Entitlement {
	p := fmt.Sprintf("entitlements[%d]", i)
	number, code, version := strings.TrimSpace(e.Agreement), strings.TrimSpace(e.Product), strings.TrimSpace(e.Version)
	ok := im.agreementKnown(p+".agreement", number, refs)
	if !im.productKnown(p+".product", code) {
		return rows
	}
	var matches []versionKey
	for _, k := range im.byProduct[code] {
		if k.version == version && (e.Edition == nil || strings.TrimSpace(*e.Edition) == k.edition) {
			matches = append(matches, k)
		}
	}
	if len(matches) == 0 {
		if e.Edition != nil {
			im.problem(p+".version", "err.import.no_version_edition", "product %q has no version %q in edition %q", code, version, *e.Edition)
		} else {
			im.problem(p+".version", "err.import.no_version", "product %q has no version %q", code, version)
		}
		return rows
	}
	if !ok {
		return rows
	}
	for _, k := range matches {
		if _, dup := im.seenEnts.add(recordHash(number, k.product, k.version, k.edition), i); dup {
			continue
		}
		var versionID int64
		if v := im.versions[k]; v != nil {
			versionID = v.ID
		}
		if entitled[[2]int64{refs[number], versionID}] {
			im.res.Entitlements.Unchanged++
			continue
		}
		im.res.Entitlements.Created++
		rows = append(rows, Entitlement{AgreementID: refs[number], VersionID: versionID, CreatedAt: im.now})
	}
	return rows
}

// keyCandidate is a valid key record, to be planned against the stored key.
type keyCandidate struct {
	key      keyKey
	row      ProductKey
	asOf     *time.Time // the document's activations_as_of
	material string
}

// validateKey checks the key record at index i, reporting false after a
// problem.
func (im *importer) validateKey(i int, k ImportKey, refs map[string]int64) (keyCandidate, bool) {
	p := fmt.Sprintf("keys[%d]", i)
	number, code := strings.TrimSpace(k.Agreement), strings.TrimSpace(k.Product)
	ok := im.agreementKnown(p+".agreement", number, refs)
	ok = im.productKnown(p+".product", code) && ok
	typ := strings.ToLower(strings.TrimSpace(k.Type))
	if !keyTypePattern.MatchString(typ) {
		im.problem(p+".type", "err.import.key_type", "%s is not a key type; use mak, kms or another lower-case word", describe(k.Type))
		ok = false
	}
	material := strings.TrimSpace(k.Key)
	if n := utf8.RuneCountInString(material); n < 5 || n > 128 || strings.ContainsAny(material, " \t\r\n") {
		im.problem(p+".key", "err.import.key", "give the product key (5 to 128 characters, no spaces)")
		ok = false
	}
	ok = im.checkActivations(p, typ, k) && ok
	status, reason, statusOK := im.keyStatus(p, k)
	ok = statusOK && ok
	var asOf *time.Time
	if s := strings.TrimSpace(k.ActivationsAsOf); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			im.problem(p+".activations_as_of", "err.import.activations_as_of", "%s is not a time such as 2026-11-01T09:00:00Z", describe(s))
			ok = false
		}
		t = t.UTC()
		asOf = &t
	}
	if !ok {
		return keyCandidate{}, false
	}
	key := keyKey{number, code, im.keys.KeyFingerprint(material)}
	if j, dup := im.seenKeys.add(recordHash(key.agreement, key.product, key.fingerprint), i); dup {
		im.problem(p+".key", "err.import.key_twice", "this key is listed twice for agreement %q and product %q (first at keys[%d])", number, code, j)
		return keyCandidate{}, false
	}
	row := ProductKey{
		KeyType: typ, Suffix: suffix(material), Fingerprint: key.fingerprint,
		ActivationLimit: k.ActivationLimit, ActivationsUsed: k.ActivationsUsed,
		Status: status, BlockReason: reason, CreatedAt: im.now, UpdatedAt: im.now,
	}
	return keyCandidate{key: key, row: row, asOf: asOf, material: material}, true
}

// checkActivations checks the activation counts of the key at path p.
func (im *importer) checkActivations(p, typ string, k ImportKey) bool {
	ok := true
	for _, c := range []struct {
		name string
		v    *int64
	}{{"activation_limit", k.ActivationLimit}, {"activations_used", k.ActivationsUsed}} {
		if c.v != nil && *c.v < 0 {
			im.problem(p+"."+c.name, "err.import.count_negative", "%s cannot be negative", c.name)
			ok = false
		}
	}
	if typ == KeyTypeMAK && k.ActivationLimit == nil {
		im.problem(p+".activation_limit", "err.import.mak_limit", "a MAK needs its activation limit")
		ok = false
	}
	if k.ActivationLimit != nil && k.ActivationsUsed != nil && *k.ActivationsUsed > *k.ActivationLimit {
		im.problem(p+".activations_used", "err.import.over_limit", "%d activations used exceed the limit of %d", *k.ActivationsUsed, *k.ActivationLimit)
		ok = false
	}
	return ok
}

// planKey counts the key row and plans it when it is new or differs from
// the stored one (nil when there is none).
func (im *importer) planKey(c keyCandidate, stored *ProductKey) {
	key, row, asOf, material := c.key, c.row, c.asOf, c.material
	countsChanged := stored == nil || !equalPtr(stored.ActivationLimit, row.ActivationLimit) || !equalPtr(stored.ActivationsUsed, row.ActivationsUsed)
	switch {
	case asOf != nil:
		row.ActivationsAsOf = asOf
	case countsChanged && (row.ActivationLimit != nil || row.ActivationsUsed != nil):
		now := im.now
		row.ActivationsAsOf = &now
	case stored != nil:
		row.ActivationsAsOf = stored.ActivationsAsOf
	}
	statusChanged := im.planKeyStatus(stored, &row)
	switch {
	case stored == nil:
		im.res.Keys.Created++
	case countsChanged || statusChanged || stored.KeyType != row.KeyType || !equalTime(stored.ActivationsAsOf, row.ActivationsAsOf):
		im.res.Keys.Updated++
	default:
		im.res.Keys.Unchanged++
		return
	}
	im.keyRows = append(im.keyRows, keyPlan{key: key, row: row, isNew: stored == nil, material: material})
}

// agreementKnown reports whether number names an agreement in the document
