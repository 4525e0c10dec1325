package models

import (
	"context"
	"fmt"
	"net/mail"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ImportOptions configure an import.
type ImportOptions struct {
	Actor  Actor
	DryRun bool // validate and count, change nothing, write no audit event
	// AfterApply, when set, runs in the import's transaction after the data
	// is stored (not in a dry run): contact matching grants access there,
	// so an import and the access it gives commit together.
	AfterApply func(tx *Tx, res *ImportResult) error
}

// ImportCounts counts what an import did to one kind of record.
type ImportCounts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed,omitempty"`
}

// ContactChange is a contact added to or removed from an agreement by an
// import; sign-in uses it to grant or withdraw contact-derived access.
type ContactChange struct {
	AgreementID int64
	Email       string
	Role        ContactRole
	Added       bool
}

// ImportResult reports what an import did (or, in a dry run, would do).
type ImportResult struct {
	DryRun         bool            `json:"dry_run"`
	Organizations  ImportCounts    `json:"organizations"`
	Agreements     ImportCounts    `json:"agreements"`
	Contacts       ImportCounts    `json:"contacts"`
	Products       ImportCounts    `json:"products"`
	Versions       ImportCounts    `json:"versions"`
	Files          ImportCounts    `json:"files"`
	Entitlements   ImportCounts    `json:"entitlements"`
	Keys           ImportCounts    `json:"keys"`
	ContactChanges []ContactChange `json:"-"`
	// ChangedAgreements are the ids of agreements created or updated, whose
	// parent MBSA may be new.
	ChangedAgreements []int64 `json:"-"`
}

// maxImportProblems caps the problems one failed import reports.
const maxImportProblems = 200

// importBatch is the number of rows written per statement.
const importBatch = 500

var (
	numberPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	productIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	keyTypePattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	sha256Pattern    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	authNumPattern   = regexp.MustCompile(`^[A-Za-z0-9-]{4,64}$`)
)

// Import validates doc completely and then applies it in one transaction:
// either everything is stored, with one audit event, or nothing is. A
// document that fails validation yields an invalid-input Error listing each
// problem with its JSON path, such as agreements[3].parent.
func (s *Store) Import(ctx context.Context, doc *ImportDocument, opts ImportOptions) (*ImportResult, error) {
	var res *ImportResult
	err := s.InTx(ctx, func(tx *Tx) error {
		if s.dialect == DialectPostgres {
			// One import at a time: the plan is made from what is stored.
			if err := tx.db.Exec("SELECT pg_advisory_xact_lock(7710001)").Error; err != nil {
				return err
			}
		}
		im := &importer{tx: tx, keys: s.keys, now: tx.Now(), doc: doc}
		if err := im.load(); err != nil {
			return err
		}
		im.validate()
		if len(im.problems) > 0 {
			return im.invalid()
		}
		res = &im.res
		res.DryRun = opts.DryRun
		if opts.DryRun {
			return nil
		}
		if err := im.apply(); err != nil {
			return err
		}
		if err := tx.AppendAudit(opts.Actor, AuditImport, nil, res); err != nil {
			return err
		}
		if opts.AfterApply != nil {
			if err := opts.AfterApply(tx, res); err != nil {
				return err
			}
		}
		if len(res.ChangedAgreements) == 0 {
			return nil
		}
		// Running servers pick up new and moved agreements (authz). Last,
		// since it holds the authorization lock until the commit.
		return tx.JournalAuthzChange(AuthzChange{Origin: "import", Agreements: res.ChangedAgreements})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// importer holds the stored state an import is planned against, and the plan.
type importer struct {
	tx       *Tx
	keys     *Keyring
	now      time.Time
	doc      *ImportDocument
	problems []FieldError
	res      ImportResult

	orgs       map[string]*Organization // by number
	agreements map[string]*Agreement    // by number
	contacts   map[int64][]AgreementContact
	products   map[string]*Product // by code
	versions   map[versionKey]*ProductVersion
	files      map[fileKey]*ProductFile
	entitled   map[[2]int64]bool // (agreement id, version id)
	storedKeys map[keyKey]*ProductKey
	orgByID    map[int64]string // number by id
	agrByID    map[int64]string // number by id

	// what the document declares, for references within it
	docProducts map[string]bool
	byProduct   map[string][]versionKey // stored and declared versions

	docOrgs       map[string]int
	docAgreements map[string]int
	docVersions   map[versionKey]bool

	// the plan
	orgRows       []Organization
	agreementRows []Agreement // ParentID is resolved at apply time
	agreementPar  map[string]string
	contactAdd    []contactPlan
	contactDel    []int64
	productRows   []Product
	versionRows   []versionPlan
	fileRows      []filePlan
	entRows       []entitlementPlan
	keyRows       []keyPlan
}

type versionKey struct{ product, version, edition string }
type fileKey struct {
	version versionKey
	name    string
}
type keyKey struct {
	agreement, product, fingerprint string
}
type contactPlan struct {
	agreement string
	email     string
	role      ContactRole
}
type versionPlan struct {
	key      versionKey
	released Date
}
type filePlan struct {
	version versionKey
	file    ImportFile
}
type entitlementPlan struct {
	agreement string
	version   versionKey
}
type keyPlan struct {
	key      keyKey
	row      ProductKey
	isNew    bool
	material string
}

func (im *importer) problem(field, format string, args ...any) {
	if len(im.problems) <= maxImportProblems {
		im.problems = append(im.problems, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

func (im *importer) invalid() error {
	n := len(im.problems)
	fields := im.problems
	if n > maxImportProblems {
		fields = fields[:maxImportProblems]
		fields = append(fields, FieldError{Message: "more problems not listed; fix these first"})
	}
	noun := "problems"
	if n == 1 {
		noun = "problem"
	}
	more := ""
	if n > maxImportProblems {
		more = "more than "
		n = maxImportProblems
	}
	return Invalid(fmt.Sprintf("The import document has %s%d %s; nothing was changed.", more, n, noun), fields...)
}

// load reads the stored records the document can refer to.
func (im *importer) load() error {
	db := im.tx.db
	var orgs []Organization
	if err := db.Find(&orgs).Error; err != nil {
		return err
	}
	im.orgs = make(map[string]*Organization, len(orgs))
	im.orgByID = make(map[int64]string, len(orgs))
	for i := range orgs {
		im.orgs[orgs[i].Number] = &orgs[i]
		im.orgByID[orgs[i].ID] = orgs[i].Number
	}
	var ags []Agreement
	if err := db.Find(&ags).Error; err != nil {
		return err
	}
	im.agreements = make(map[string]*Agreement, len(ags))
	im.agrByID = make(map[int64]string, len(ags))
	for i := range ags {
		im.agreements[ags[i].Number] = &ags[i]
		im.agrByID[ags[i].ID] = ags[i].Number
	}
	var contacts []AgreementContact
	if err := db.Find(&contacts).Error; err != nil {
		return err
	}
	im.contacts = make(map[int64][]AgreementContact)
	for _, c := range contacts {
		im.contacts[c.AgreementID] = append(im.contacts[c.AgreementID], c)
	}
	var products []Product
	if err := db.Find(&products).Error; err != nil {
		return err
	}
	im.products = make(map[string]*Product, len(products))
	productByID := make(map[int64]*Product, len(products))
	for i := range products {
		im.products[products[i].Code] = &products[i]
		productByID[products[i].ID] = &products[i]
	}
	var versions []ProductVersion
	if err := db.Find(&versions).Error; err != nil {
		return err
	}
	im.versions = make(map[versionKey]*ProductVersion, len(versions))
	im.byProduct = make(map[string][]versionKey)
	versionByID := make(map[int64]versionKey, len(versions))
	for i := range versions {
		v := &versions[i]
		k := versionKey{productByID[v.ProductID].Code, v.Version, v.Edition}
		im.versions[k] = v
		im.byProduct[k.product] = append(im.byProduct[k.product], k)
		versionByID[v.ID] = k
	}
	var files []ProductFile
	if err := db.Find(&files).Error; err != nil {
		return err
	}
	im.files = make(map[fileKey]*ProductFile, len(files))
	for i := range files {
		im.files[fileKey{versionByID[files[i].VersionID], files[i].Name}] = &files[i]
	}
	var ents []Entitlement
	if err := db.Select("agreement_id", "version_id").Find(&ents).Error; err != nil {
		return err
	}
	im.entitled = make(map[[2]int64]bool, len(ents))
	for _, e := range ents {
		im.entitled[[2]int64{e.AgreementID, e.VersionID}] = true
	}
	var keys []ProductKey
	err := db.Select("id", "agreement_id", "product_id", "key_type", "fingerprint", "suffix",
		"activation_limit", "activations_used", "activations_as_of").Find(&keys).Error
	if err != nil {
		return err
	}
	im.storedKeys = make(map[keyKey]*ProductKey, len(keys))
	for i := range keys {
		k := &keys[i]
		im.storedKeys[keyKey{im.agrByID[k.AgreementID], productByID[k.ProductID].Code, k.Fingerprint}] = k
	}
	return nil
}

// validate checks the whole document against itself and the stored data,
// collecting every problem and, when there are none, the plan.
func (im *importer) validate() {
	im.validateOrganizations()
	im.validateAgreements()
	im.validateProducts()
	im.validateEntitlements()
	im.validateKeys()
}

func (im *importer) validateOrganizations() {
	im.docOrgs = make(map[string]int, len(im.doc.Organizations))
	for i, o := range im.doc.Organizations {
		p := fmt.Sprintf("organizations[%d]", i)
		number, name := strings.TrimSpace(o.Number), strings.TrimSpace(o.Name)
		ok := true
		if !numberPattern.MatchString(number) {
			im.problem(p+".number", "%s; use 1 to 64 letters, digits, '.', '_' or '-'", describe(o.Number))
			ok = false
		} else if j, dup := im.docOrgs[number]; dup {
			im.problem(p+".number", "organization %q is listed twice (first at organizations[%d])", number, j)
			ok = false
		}
		if name == "" || utf8.RuneCountInString(name) > 200 {
			im.problem(p+".name", "give the organization's name (1 to 200 characters)")
			ok = false
		}
		if !ok {
			continue
		}
		im.docOrgs[number] = i
		stored := im.orgs[number]
		switch {
		case stored == nil:
			im.res.Organizations.Created++
		case stored.Name != name:
			im.res.Organizations.Updated++
		default:
			im.res.Organizations.Unchanged++
			continue
		}
		im.orgRows = append(im.orgRows, Organization{Number: number, Name: name, CreatedAt: im.now, UpdatedAt: im.now})
	}
}

func (im *importer) validateAgreements() {
	im.docAgreements = make(map[string]int, len(im.doc.Agreements))
	im.agreementPar = make(map[string]string)
	// Programs first, so that parents can be checked whatever the order.
	programs := make(map[string]Program, len(im.doc.Agreements))
	for i, a := range im.doc.Agreements {
		number := strings.TrimSpace(a.Number)
		if !numberPattern.MatchString(number) {
			im.problem(fmt.Sprintf("agreements[%d].number", i), "%s; use 1 to 64 letters, digits, '.', '_' or '-'", describe(a.Number))
			continue
		}
		if j, dup := im.docAgreements[number]; dup {
			im.problem(fmt.Sprintf("agreements[%d].number", i), "agreement %q is listed twice (first at agreements[%d])", number, j)
			continue
		}
		im.docAgreements[number] = i
		programs[number] = Program(a.Program)
	}
	for i, a := range im.doc.Agreements {
		p := fmt.Sprintf("agreements[%d]", i)
		number := strings.TrimSpace(a.Number)
		if j, ok := im.docAgreements[number]; !ok || j != i {
			continue // reported above
		}
		ok := true
		prog := Program(a.Program)
		stored := im.agreements[number]
		if !prog.Valid() {
			im.problem(p+".program", "%s is not a program; use one of %s", describe(a.Program), programList())
			ok = false
		} else if stored != nil && stored.Program != prog {
			im.problem(p+".program", "agreement %q is stored as %s; the program of an agreement cannot change", number, stored.Program)
			ok = false
		}
		org := strings.TrimSpace(a.Organization)
		if _, inDoc := im.docOrgs[org]; !inDoc && im.orgs[org] == nil {
			if org == "" {
				im.problem(p+".organization", "give the number of the organization the agreement belongs to")
			} else {
				im.problem(p+".organization", "organization %q not found; list it under organizations or import it first", org)
			}
			ok = false
		}
		parent := strings.TrimSpace(a.Parent)
		if parent != "" {
			parentProg, inDoc := programs[parent]
			if !inDoc {
				if sp := im.agreements[parent]; sp != nil {
					parentProg = sp.Program
				}
			}
			switch {
			case parentProg == "":
				im.problem(p+".parent", "agreement %q not found", parent)
				ok = false
			case parentProg != ProgramMBSA:
				im.problem(p+".parent", "agreement %q is %s; a parent must be an mbsa", parent, parentProg)
				ok = false
			case prog.Valid() && !prog.CanHaveParent():
				im.problem(p+".parent", "a %s agreement cannot have a parent; only enterprise and select_plus hang under an MBSA", prog)
				ok = false
			}
		}
		starts, ends := im.date(p+".starts", a.Starts), im.date(p+".ends", a.Ends)
		if !starts.IsZero() && !ends.IsZero() && ends.Before(starts) {
			im.problem(p+".ends", "ends (%s) is before starts (%s)", ends, starts)
			ok = false
		}
		if utf8.RuneCountInString(a.Name) > 200 {
			im.problem(p+".name", "the name is longer than 200 characters")
			ok = false
		}
		var authHash *string
		switch auth := strings.TrimSpace(a.AuthorizationNumber); {
		case prog != ProgramOpenLicense && auth != "":
			im.problem(p+".authorization_number", "only open_license agreements have an authorization number")
			ok = false
		case prog == ProgramOpenLicense && auth == "" && (stored == nil || stored.AuthHash == nil):
			im.problem(p+".authorization_number", "a new open_license agreement needs its authorization number")
			ok = false
		case auth != "" && !authNumPattern.MatchString(auth):
			im.problem(p+".authorization_number", "use 4 to 64 letters, digits or '-'")
			ok = false
		case auth != "":
			h := im.keys.HashAuthorizationNumber(auth)
			authHash = &h
		case stored != nil:
			authHash = stored.AuthHash
		}
		contacts := im.validateContacts(p, a.Contacts)
		if !ok || contacts == nil {
			continue
		}
		row := Agreement{
			Number: number, Program: prog, Name: strings.TrimSpace(a.Name),
			Starts: starts, Ends: ends, AuthHash: authHash,
			CreatedAt: im.now, UpdatedAt: im.now,
		}
		im.agreementPar[number] = parent
		changed := true
		if stored != nil {
			changed = stored.Name != row.Name || !stored.Starts.Equal(row.Starts) || !stored.Ends.Equal(row.Ends) ||
				!equalPtr(stored.AuthHash, row.AuthHash) || im.orgByID[stored.OrganizationID] != org ||
				im.agreementNumber(stored.ParentID) != parent
		}
		switch {
		case stored == nil:
			im.res.Agreements.Created++
		case changed:
			im.res.Agreements.Updated++
		default:
			im.res.Agreements.Unchanged++
		}
		if changed {
			im.agreementRows = append(im.agreementRows, row)
		}
		im.planContacts(number, stored, contacts)
	}
}

// validateContacts returns the normalised contacts, or nil after reporting
// a problem. An agreement without contacts yields an empty, non-nil slice.
func (im *importer) validateContacts(p string, in []ImportContact) []contactPlan {
	out := make([]contactPlan, 0, len(in))
	seen := make(map[contactPlan]int)
	ok := true
	for j, c := range in {
		cp := fmt.Sprintf("%s.contacts[%d]", p, j)
		email := NormalizeEmail(c.Email)
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || addr.Name != "" {
			im.problem(cp+".email", "%s is not an email address such as it-admin@contoso.example", describe(c.Email))
			ok = false
		}
		role := ContactRole(c.Role)
		if !role.Valid() {
			im.problem(cp+".role", "%s is not a contact role; use primary, notices or online_admin", describe(c.Role))
			ok = false
		}
		plan := contactPlan{email: email, role: role}
		if k, dup := seen[plan]; dup {
			im.problem(cp, "%s is already listed as %s at %s.contacts[%d]", email, role, p, k)
			ok = false
		}
		seen[plan] = j
		out = append(out, plan)
	}
	if !ok {
		return nil
	}
	return out
}

func (im *importer) planContacts(number string, stored *Agreement, want []contactPlan) {
	have := map[contactPlan]int64{}
	if stored != nil {
		for _, c := range im.contacts[stored.ID] {
			have[contactPlan{email: c.Email, role: c.Role}] = c.ID
		}
	}
	for _, c := range want {
		if _, ok := have[c]; ok {
			delete(have, c)
			im.res.Contacts.Unchanged++
			continue
		}
		c.agreement = number
		im.contactAdd = append(im.contactAdd, c)
		im.res.Contacts.Created++
	}
	for c, id := range have {
		im.contactDel = append(im.contactDel, id)
		im.res.Contacts.Removed++
		im.res.ContactChanges = append(im.res.ContactChanges, ContactChange{AgreementID: stored.ID, Email: c.email, Role: c.role})
	}
}

func (im *importer) validateProducts() {
	im.docVersions = make(map[versionKey]bool)
	im.docProducts = make(map[string]bool, len(im.doc.Products))
	seen := make(map[string]int, len(im.doc.Products))
	for i, pr := range im.doc.Products {
		p := fmt.Sprintf("products[%d]", i)
		code, name := strings.TrimSpace(pr.ID), strings.TrimSpace(pr.Name)
		if !productIDPattern.MatchString(code) {
			im.problem(p+".id", "%s; use 1 to 64 lower-case letters, digits, '.', '_' or '-'", describe(pr.ID))
			continue
		}
		if j, dup := seen[code]; dup {
			im.problem(p+".id", "product %q is listed twice (first at products[%d])", code, j)
			continue
		}
		seen[code] = i
		im.docProducts[code] = true
		if name == "" || utf8.RuneCountInString(name) > 200 {
			im.problem(p+".name", "give the product's name (1 to 200 characters)")
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
		im.problem(p+".version", "give the version (1 to 64 characters), such as \"11 24H2\"")
		return
	}
	if utf8.RuneCountInString(key.edition) > 64 {
		im.problem(p+".edition", "the edition is longer than 64 characters")
		return
	}
	if im.docVersions[key] {
		im.problem(p, "version %q edition %q of product %q is listed twice", key.version, key.edition, code)
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
	names := map[string]int{}
	for k, f := range v.Files {
		fp := fmt.Sprintf("%s.files[%d]", p, k)
		f.Name, f.Path, f.SHA256 = strings.TrimSpace(f.Name), strings.TrimSpace(f.Path), strings.ToLower(strings.TrimSpace(f.SHA256))
		ok := true
		if f.Name == "" || strings.ContainsAny(f.Name, "/\\\"") || utf8.RuneCountInString(f.Name) > 255 {
			im.problem(fp+".name", "%s; give a file name without '/', '\\' or '\"' (1 to 255 characters)", describe(f.Name))
			ok = false
		} else if l, dup := names[f.Name]; dup {
			im.problem(fp+".name", "file %q is listed twice in this version (first at files[%d])", f.Name, l)
			ok = false
		}
		names[f.Name] = k
		if tag, err := language.Parse(f.Language); err != nil || f.Language == "" {
			im.problem(fp+".language", "%s is not a language tag such as \"ja\" or \"en-US\"", describe(f.Language))
			ok = false
		} else {
			f.Language = tag.String()
		}
		if f.Size < 0 {
			im.problem(fp+".size", "the size is negative")
			ok = false
		}
		if !sha256Pattern.MatchString(f.SHA256) {
			im.problem(fp+".sha256", "give the SHA-256 of the file as 64 hexadecimal digits")
			ok = false
		}
		if f.Path == "" || path.IsAbs(f.Path) || strings.Contains(f.Path, "\\") || path.Clean(f.Path) != f.Path || strings.HasPrefix(f.Path, "../") || f.Path == ".." {
			im.problem(fp+".path", "%s; give a clean path relative to the storage directory, such as \"win/11/ja.iso\"", describe(f.Path))
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

func (im *importer) validateEntitlements() {
	seen := map[entitlementPlan]int{}
	for i, e := range im.doc.Entitlements {
		p := fmt.Sprintf("entitlements[%d]", i)
		number, code, version := strings.TrimSpace(e.Agreement), strings.TrimSpace(e.Product), strings.TrimSpace(e.Version)
		ok := im.agreementKnown(p+".agreement", number)
		if !im.productKnown(p+".product", code) {
			continue
		}
		var matches []versionKey
		for _, k := range im.byProduct[code] {
			if k.version == version && (e.Edition == nil || strings.TrimSpace(*e.Edition) == k.edition) {
				matches = append(matches, k)
			}
		}
		if len(matches) == 0 {
			if e.Edition != nil {
				im.problem(p+".version", "product %q has no version %q in edition %q", code, version, *e.Edition)
			} else {
				im.problem(p+".version", "product %q has no version %q", code, version)
			}
			continue
		}
		if !ok {
			continue
		}
		for _, k := range matches {
			plan := entitlementPlan{number, k}
			if _, dup := seen[plan]; dup {
				continue
			}
			seen[plan] = i
			a, v := im.agreements[number], im.versions[k]
			if a != nil && v != nil && im.entitled[[2]int64{a.ID, v.ID}] {
				im.res.Entitlements.Unchanged++
				continue
			}
			im.res.Entitlements.Created++
			im.entRows = append(im.entRows, plan)
		}
	}
}

func (im *importer) validateKeys() {
	seen := map[keyKey]int{}
	for i, k := range im.doc.Keys {
		p := fmt.Sprintf("keys[%d]", i)
		number, code := strings.TrimSpace(k.Agreement), strings.TrimSpace(k.Product)
		ok := im.agreementKnown(p+".agreement", number)
		ok = im.productKnown(p+".product", code) && ok
		typ := strings.ToLower(strings.TrimSpace(k.Type))
		if !keyTypePattern.MatchString(typ) {
			im.problem(p+".type", "%s is not a key type; use mak, kms or another lower-case word", describe(k.Type))
			ok = false
		}
		material := strings.TrimSpace(k.Key)
		if n := utf8.RuneCountInString(material); n < 5 || n > 128 || strings.ContainsAny(material, " \t\r\n") {
			im.problem(p+".key", "give the product key (5 to 128 characters, no spaces)")
			ok = false
		}
		for _, c := range []struct {
			name string
			v    *int64
		}{{"activation_limit", k.ActivationLimit}, {"activations_used", k.ActivationsUsed}} {
			if c.v != nil && *c.v < 0 {
				im.problem(p+"."+c.name, "%s cannot be negative", c.name)
				ok = false
			}
		}
		if typ == KeyTypeMAK && k.ActivationLimit == nil {
			im.problem(p+".activation_limit", "a MAK needs its activation limit")
			ok = false
		}
		if k.ActivationLimit != nil && k.ActivationsUsed != nil && *k.ActivationsUsed > *k.ActivationLimit {
			im.problem(p+".activations_used", "%d activations used exceed the limit of %d", *k.ActivationsUsed, *k.ActivationLimit)
			ok = false
		}
		var asOf *time.Time
		if s := strings.TrimSpace(k.ActivationsAsOf); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				im.problem(p+".activations_as_of", "%s is not a time such as 2026-11-01T09:00:00Z", describe(s))
				ok = false
			}
			t = t.UTC()
			asOf = &t
		}
		if !ok {
			continue
		}
		key := keyKey{number, code, im.keys.KeyFingerprint(material)}
		if j, dup := seen[key]; dup {
			im.problem(p+".key", "this key is listed twice for agreement %q and product %q (first at keys[%d])", number, code, j)
			continue
		}
		seen[key] = i
		row := ProductKey{
			KeyType: typ, Suffix: suffix(material), Fingerprint: key.fingerprint,
			ActivationLimit: k.ActivationLimit, ActivationsUsed: k.ActivationsUsed,
			CreatedAt: im.now, UpdatedAt: im.now,
		}
		stored := im.storedKeys[key]
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
		switch {
		case stored == nil:
			im.res.Keys.Created++
		case countsChanged || stored.KeyType != row.KeyType || !equalTime(stored.ActivationsAsOf, row.ActivationsAsOf):
			im.res.Keys.Updated++
		default:
			im.res.Keys.Unchanged++
			continue
		}
		im.keyRows = append(im.keyRows, keyPlan{key: key, row: row, isNew: stored == nil, material: material})
	}
}

// agreementKnown reports whether number names an agreement in the document
// or the database, reporting a problem at field when not.
func (im *importer) agreementKnown(field, number string) bool {
	if _, ok := im.docAgreements[number]; ok {
		return true
	}
	if im.agreements[number] != nil {
		return true
	}
	im.problem(field, "agreement %q not found", number)
	return false
}

func (im *importer) productKnown(field, code string) bool {
	if im.docProducts[code] || im.products[code] != nil {
		return true
	}
	im.problem(field, "product %q not found", code)
	return false
}

func (im *importer) date(field, s string) Date {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}
	}
	d, err := ParseDate(s)
	if err != nil {
		im.problem(field, "%v", err)
	}
	return d
}

func (im *importer) agreementNumber(id *int64) string {
	if id == nil {
		return ""
	}
	return im.agrByID[*id]
}

// apply writes the plan. It runs inside the import's transaction.
func (im *importer) apply() error {
	db := im.tx.db
	if err := upsert(db, im.orgRows, []string{"number"}, "name", "updated_at"); err != nil {
		return fmt.Errorf("store organizations: %w", err)
	}
	orgIDs, err := idsByKey[string](db, "organizations", "number", keysOf(im.docOrgs))
	if err != nil {
		return err
	}
	for n, o := range im.orgs {
		if _, ok := orgIDs[n]; !ok {
			orgIDs[n] = o.ID
		}
	}
	// Parents are MBSAs and MBSAs have no parents: store MBSAs first.
	var mbsas, others []Agreement
	for _, a := range im.agreementRows {
		if a.Program == ProgramMBSA {
			mbsas = append(mbsas, a)
		} else {
			others = append(others, a)
		}
	}
	agreementIDs := make(map[string]int64, len(im.agreements)+len(im.docAgreements))
	for n, a := range im.agreements {
		agreementIDs[n] = a.ID
	}
	for _, group := range [][]Agreement{mbsas, others} {
		for i := range group {
			a := &group[i]
			a.OrganizationID = orgIDs[strings.TrimSpace(im.doc.Agreements[im.docAgreements[a.Number]].Organization)]
			if par := im.agreementPar[a.Number]; par != "" {
				id := agreementIDs[par]
				a.ParentID = &id
			}
		}
		err := upsert(db, group, []string{"number"}, "name", "organization_id", "parent_id", "starts", "ends", "auth_hash", "updated_at")
		if err != nil {
			return fmt.Errorf("store agreements: %w", err)
		}
		ids, err := idsByKey[string](db, "agreements", "number", numbersOf(group))
		if err != nil {
			return err
		}
		for n, id := range ids {
			agreementIDs[n] = id
			im.res.ChangedAgreements = append(im.res.ChangedAgreements, id)
		}
	}
	if err := im.applyContacts(db, agreementIDs); err != nil {
		return err
	}
	if err := im.applyCatalog(db); err != nil {
		return err
	}
	return im.applyEntitlementsAndKeys(db, agreementIDs)
}

func (im *importer) applyContacts(db *gorm.DB, agreementIDs map[string]int64) error {
	for _, ids := range chunks(im.contactDel, importBatch) {
		if err := db.Where("id IN ?", ids).Delete(&AgreementContact{}).Error; err != nil {
			return fmt.Errorf("remove contacts: %w", err)
		}
	}
	rows := make([]AgreementContact, 0, len(im.contactAdd))
	for _, c := range im.contactAdd {
		id := agreementIDs[c.agreement]
		rows = append(rows, AgreementContact{AgreementID: id, Email: c.email, Role: c.role, CreatedAt: im.now})
		im.res.ContactChanges = append(im.res.ContactChanges, ContactChange{AgreementID: id, Email: c.email, Role: c.role, Added: true})
	}
	if len(rows) > 0 {
		if err := db.CreateInBatches(rows, importBatch).Error; err != nil {
			return fmt.Errorf("store contacts: %w", err)
		}
	}
	return nil
}

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

func (im *importer) applyEntitlementsAndKeys(db *gorm.DB, agreementIDs map[string]int64) error {
	erows := make([]Entitlement, 0, len(im.entRows))
	for _, e := range im.entRows {
		erows = append(erows, Entitlement{AgreementID: agreementIDs[e.agreement], VersionID: im.versions[e.version].ID, CreatedAt: im.now})
	}
	if len(erows) > 0 {
		err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(erows, importBatch).Error
		if err != nil {
			return fmt.Errorf("store entitlements: %w", err)
		}
	}
	var created, updated []ProductKey
	for _, k := range im.keyRows {
		row := k.row
		row.AgreementID = agreementIDs[k.key.agreement]
		row.ProductID = im.products[k.key.product].ID
		if k.isNew {
			row.SealedKey = im.keys.SealKey(k.material, row.Fingerprint)
			created = append(created, row)
		} else {
			row.SealedKey = []byte{} // not written: the conflict update leaves it
			updated = append(updated, row)
		}
	}
	if len(created) > 0 {
		if err := db.CreateInBatches(created, importBatch).Error; err != nil {
			return fmt.Errorf("store product keys: %w", err)
		}
	}
	err := upsert(db, updated, []string{"agreement_id", "product_id", "fingerprint"},
		"key_type", "activation_limit", "activations_used", "activations_as_of", "updated_at")
	if err != nil {
		return fmt.Errorf("update product keys: %w", err)
	}
	return nil
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

// suffix returns the last five characters of a key, as lists show them.
func suffix(key string) string {
	r := []rune(key)
	if len(r) <= 5 {
		return string(r)
	}
	return string(r[len(r)-5:])
}

// describe quotes a value for an error message, or says it is missing.
func describe(s string) string {
	if strings.TrimSpace(s) == "" {
		return "missing"
	}
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

func programList() string {
	names := make([]string, len(Programs))
	for i, p := range Programs {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
