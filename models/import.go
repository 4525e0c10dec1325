package models

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// ImportOptions configure an import.
type ImportOptions struct {
	Actor  Actor
	DryRun bool // validate and count, change nothing, write no audit event
	// AfterApply, when set, runs in the import's transaction after the data
	// is stored (not in a dry run): contact matching grants access there,
	// so an import and the access it gives commit together.
	AfterApply func(tx *Tx, res *ImportResult) error
	// Progress, when set, is told the number of records read so far,
	// every thousand records and at the end of the document.
	Progress func(records int)
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
	DryRun        bool         `json:"dry_run"`
	Organizations ImportCounts `json:"organizations"`
	Agreements    ImportCounts `json:"agreements"`
	Contacts      ImportCounts `json:"contacts"`
	Products      ImportCounts `json:"products"`
	Versions      ImportCounts `json:"versions"`
	Files         ImportCounts `json:"files"`
	Entitlements  ImportCounts `json:"entitlements"`
	Keys          ImportCounts `json:"keys"`
	Orders        ImportCounts `json:"orders"`
	// KeyStatusChanges lists the stored keys whose status the import
	// changed, for the audit log.
	KeyStatusChanges []KeyStatusChange `json:"key_status_changes,omitempty"`
	ContactChanges   []ContactChange   `json:"-"`
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

// Import validates doc and applies it in one transaction: either
// everything is stored, with one audit event, or nothing is. A document
// that fails validation yields an invalid-input Error listing each problem
// with its JSON path, such as agreements[3].parent.
func (s *Store) Import(ctx context.Context, doc *ImportDocument, opts ImportOptions) (*ImportResult, error) {
	return s.importFrom(ctx, &docSource{doc: doc}, opts)
}

// ImportJSON is Import of the JSON document r, decoded as it is read:
// every section is validated and stored a batch at a time, and what is
// kept of a record is an entry of some tens of bytes in the indexes that
// references and duplicates are checked against (see importer), so that
// 200k agreements with 1M keys take some 40 MiB of heap. Malformed JSON
// is reported as DecodeImport does, and changes nothing either.
func (s *Store) ImportJSON(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	return s.importFrom(ctx, newJSONSource(r), opts)
}

func (s *Store) importFrom(ctx context.Context, src importSource, opts ImportOptions) (*ImportResult, error) {
	if opts.Progress != nil {
		src = &countingSource{importSource: src, progress: opts.Progress}
	}
	var res *ImportResult
	err := s.InTx(ctx, func(tx *Tx) error {
		if s.dialect == DialectPostgres {
			// One import at a time: the plan is made from what is stored.
			if err := tx.db.Exec("SELECT pg_advisory_xact_lock(7710001)").Error; err != nil {
				return err
			}
		}
		im := newImporter(tx, s.keys, opts.DryRun)
		defer im.close()
		if err := im.run(src); err != nil {
			return err
		}
		if len(im.problems) > 0 {
			return im.invalid()
		}
		res = &im.res
		res.DryRun = opts.DryRun
		if opts.DryRun {
			return nil
		}
		return im.record(opts)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// record writes the audit event of an applied import and lets the rest of
// the system know, in its transaction.
func (im *importer) record(opts ImportOptions) error {
	tx, res := im.tx, &im.res
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
}

// importer holds what an import is planned against. It reads only the
// stored rows the document names, a batch at a time, and keeps of the
// document's records only compact indexes: some tens of bytes an
// agreement (numberIndex), a dozen a key, entitlement or order line
// (seenSet) and a map entry an organization; not their records, nor the stored rows once
// their batch is done. Sections read before what they name wait in a
// spool, on disk.
type importer struct {
	tx       *Tx
	keys     *Keyring
	now      time.Time
	dryRun   bool
	held     map[string]*spool // sections read before what they name
	done     map[string]bool   // sections validated (and, while writing, stored)
	ending   bool              // the document is read: every section is ready
	problems []FieldError
	badText  map[string]bool // fields refused by the free-text rule
	text     *textWalker
	res      ImportResult

	// the catalog, stored and declared: it stays small
	products     map[string]*Product // by code
	productCodes map[int64]string    // stored, by id
	versions     map[versionKey]*ProductVersion
	byProduct    map[string][]versionKey // stored and declared versions
	docProducts  map[string]bool
	docVersions  map[versionKey]bool

	// what the document declares, for references within it
	docOrgs       map[string]int32  // index of each organization, by number
	docAgreements numberIndex       // by number
	oddPrograms   map[string]string // the program of agreements whose program is not one
	parentChecks  []parentCheck     // parents named before the document lists them
	seenKeys      seenSet           // each key's keyKey, and its index
	seenEnts      seenSet           // each entitlement planned: agreement and version
	seenOrders    seenSet           // each order line's orderKey, and its index
	deferred      *spool            // keys read before what they name

	// the plan of the section or batch at hand
	productRows []Product
	versionRows []versionPlan
	fileRows    []filePlan
	files       map[fileKey]*ProductFile // stored files of the document's products
	keyRows     []keyPlan
}

func newImporter(tx *Tx, keys *Keyring, dryRun bool) *importer {
	im := &importer{
		tx: tx, keys: keys, now: tx.Now(), dryRun: dryRun, held: map[string]*spool{}, done: map[string]bool{}, badText: map[string]bool{},
		docOrgs: map[string]int32{}, oddPrograms: map[string]string{},
		docProducts: map[string]bool{}, docVersions: map[versionKey]bool{}, files: map[fileKey]*ProductFile{},
	}
	im.text = newTextWalker(func(s string) FieldError { return textProblem(strings.TrimSpace(s), false) }, func(path string, p FieldError) {
		p.Field = path
		im.addProblem(p)
		im.badText[path] = true
	})
	return im
}

// docAgreement is what an import keeps of an agreement of its document:
// its index, its program (1 + its index in Programs, 0 when it is none)
// and its id once it is stored (0 before, and in a dry run for a new one).
type docAgreement struct {
	id      int64
	index   int32
	program uint8
}

// parentCheck is an agreement whose parent the document had not listed
// when the agreement was read: it is checked, and stored, at the end of
// the section.
type parentCheck struct {
	child, parent string
	index         int32
	program       Program
}

// agreementPlan is an agreement to store: the columns that the document
// sets, and its organization and parent by number (their ids are known
// only once those are stored). Kept instead of whole rows so that a large
// document's plan stays small; the rows are built a batch at a time.
type agreementPlan struct {
	number, name         string
	program              Program
	organization, parent string
	starts, ends         Date
	authHash             *string
}

type versionKey struct{ product, version, edition string }
type fileKey struct {
	version versionKey
	name    string
}
type keyKey struct {
	agreement, product, fingerprint string
}
type orderKey struct {
	agreement, number, product, version, edition string
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
type keyPlan struct {
	key      keyKey
	row      ProductKey
	isNew    bool
	material string
}

// KeyStatusChange is a change of a key's status.
type KeyStatusChange struct {
	KeyID  int64       `json:"key_id"`
	Suffix string      `json:"suffix"`
	From   KeyStatus   `json:"from"`
	To     KeyStatus   `json:"to"`
	Reason BlockReason `json:"reason,omitempty"`
}

// problem records what is wrong with field: key is the stable message key,
// and the message names args as A, B, C and D, in order.
func (im *importer) problem(field, key, format string, args ...any) {
	a := make(Args, len(args))
	for i, v := range args {
		if d, ok := v.(described); ok {
			v = string(d)
		}
		a[string(rune('A'+i))] = v
	}
	im.addProblem(FieldError{Field: field, Key: key, Args: a, Message: fmt.Sprintf(format, args...)})
}

func (im *importer) addProblem(p FieldError) {
	if im.badText[p.Field] {
		return // already reported: its text is refused
	}
	if len(im.problems) <= maxImportProblems {
		im.problems = append(im.problems, p)
	}
}

func (im *importer) invalid() error {
	n := len(im.problems)
	fields := im.problems
	if n > maxImportProblems {
		fields = fields[:maxImportProblems]
		fields = append(fields, FieldError{Key: "err.import.more", Message: "more problems not listed; fix these first"})
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
	e := InvalidKey("err.import.invalid", fmt.Sprintf("The import document has %s%d %s; nothing was changed.", more, n, noun), fields...)
	return e.With(Args{"Count": n, "More": more != ""})
}
