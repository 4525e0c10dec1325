package app

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// AuditDownload is the audit kind of a file download.
const AuditDownload = "download"

// DefaultLinkTTL is how long a download link works when NewDownloads is
// given no lifetime.
const DefaultLinkTTL = 10 * time.Minute

// linkPurpose derives the key download links are signed with.
const linkPurpose = "download-link"

// ErrNoSuchFile is the one answer for a file that does not exist and one
// the user may not download, so nobody can probe the catalog.
var ErrNoSuchFile = models.Errorf(models.CodeNotFound, "There is no such file, or you may not download it.")

// ErrDownloadLinkExpired answers a download link used after its expiry.
var ErrDownloadLinkExpired = models.Errorf(models.CodeInvalid, "This download link has expired; get a new one from the downloads page.")

// Downloads lists the software a user may download (the versions their
// licences are entitled to, with earlier versions of the same product and
// edition by downgrade right), signs short-lived download links bound to
// the user, opens the files those links name and audits downloads.
//
// A user may download through a licence on which they hold
// download_manager or administrator (authz.ActDownload).
type Downloads struct {
	store   *models.Store
	authz   *authz.Authorizer
	storage Storage
	key     []byte
	ttl     time.Duration
}

// DownloadsOptions configure the downloads use cases.
type DownloadsOptions struct {
	// Storage holds the files' bytes. Required.
	Storage Storage
	// LinkTTL is the lifetime of a download link (DefaultLinkTTL when 0 or less).
	LinkTTL time.Duration
}

// NewDownloads returns the downloads use cases. Links are signed with a
// key derived from the store's keyring.
func NewDownloads(store *models.Store, az *authz.Authorizer, opts DownloadsOptions) *Downloads {
	if opts.LinkTTL <= 0 {
		opts.LinkTTL = DefaultLinkTTL
	}
	return &Downloads{store: store, authz: az, storage: opts.Storage, key: store.Keyring().SubKey(linkPurpose), ttl: opts.LinkTTL}
}

// DownloadFilter narrows the list. Empty fields select everything.
type DownloadFilter struct {
	Query    string // case-insensitive text in the product name, version, edition or file name
	Product  string // product code, such as "win-ent"
	Language string // BCP 47 tag of the files, such as "ja"
}

// ProductDownloads is a product with the versions the user may download,
// newest first.
type ProductDownloads struct {
	Code     string             `json:"product"`
	Name     string             `json:"name"`
	Versions []VersionDownloads `json:"versions"`
}

// VersionDownloads is one version and edition with its files.
type VersionDownloads struct {
	ID       int64  `json:"id"`
	Version  string `json:"version"`
	Edition  string `json:"edition,omitempty"`
	Released string `json:"released,omitempty"` // YYYY-MM-DD
	// Downgrade is set when the version is downloadable only by downgrade
	// right: no licence of the user is entitled to it directly.
	Downgrade bool           `json:"downgrade"`
	Files     []FileDownload `json:"files"`
}

// FileDownload is one downloadable file.
type FileDownload struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
}

// DownloadLink is a signed, short-lived link to one file.
type DownloadLink struct {
	URL       string    `json:"url"` // relative: /dl/{file}?exp=…&sig=…
	ExpiresAt time.Time `json:"expires_at"`
	SHA256    string    `json:"sha256"`
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
}

// dlVersionOut is a version on its way into the list.
type dlVersionOut struct {
	row dlVersion
	out VersionDownloads
}

// dlVersion is a product version as the rules below need it.
type dlVersion = models.CatalogVersion

// dlEarlier reports whether version a comes before version b of the same
// product and edition: by release date when both have one and they
// differ, otherwise by version number (digits compared as numbers).
func dlEarlier(a, b dlVersion) bool {
	if !a.Released.IsZero() && !b.Released.IsZero() && !a.Released.Equal(b.Released) {
		return a.Released.Before(b.Released)
	}
	return compareVersionNumbers(a.Version, b.Version) < 0
}

// dlNewestFirst orders versions newest first, then by edition.
func dlNewestFirst(a, b dlVersion) int {
	switch {
	case dlEarlier(b, a):
		return -1
	case dlEarlier(a, b):
		return 1
	}
	return cmp.Or(strings.Compare(a.Edition, b.Edition), cmp.Compare(a.ID, b.ID))
}

// compareVersionNumbers compares version strings, runs of digits as numbers:
// "9" < "10", "11 23H2" < "11 24H2".
func compareVersionNumbers(a, b string) int {
	for a != "" && b != "" {
		ra, rb := rune(a[0]), rune(b[0])
		if unicode.IsDigit(ra) && unicode.IsDigit(rb) {
			na, ta := versionDigits(a)
			nb, tb := versionDigits(b)
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ta, tb
			continue
		}
		if ra != rb {
			return cmp.Compare(ra, rb)
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

// versionDigits splits s after its leading digits, which it returns without
// leading zeros.
func versionDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return strings.TrimLeft(s[:i], "0"), s[i:]
}

// downloadLicences returns the licences user may download through, after
// checking that their work email is confirmed.
func (d *Downloads) downloadLicences(ctx context.Context, user int64) ([]int64, error) {
	verified, err := d.store.WorkEmailConfirmed(ctx, user)
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, ErrConfirmWorkEmail
	}
	if err != nil {
		return nil, err
	}
	if !verified {
		return nil, ErrConfirmWorkEmail
	}
	var ids []int64
	for _, l := range d.authz.Licences(user) {
		if slices.Contains(l.Permissions, models.PermDownloadManager) || slices.Contains(l.Permissions, models.PermAdministrator) {
			ids = append(ids, l.AgreementID)
		}
	}
	return ids, nil
}

// dlEntitled is a version a licence is entitled to.
type dlEntitled = models.EntitledVersion

// dlGrants tells whether entitlements ents (of one product) let the
// user download version v, directly or by downgrade right, and which
// licence does (a direct entitlement first, then the lowest id).
func dlGrants(v dlVersion, ents []dlEntitled) (licence int64, direct, ok bool) {
	for _, e := range ents {
		if e.ProductID != v.ProductID || e.Edition != v.Edition {
			continue
		}
		switch {
		case e.ID == v.ID:
			if !direct || e.AgreementID < licence {
				licence = e.AgreementID
			}
			direct, ok = true, true
		case !direct && dlEarlier(v, e.CatalogVersion):
			if !ok || e.AgreementID < licence {
				licence = e.AgreementID
			}
			ok = true
		}
	}
	return licence, direct, ok
}

// dlAllowed is a version the user may download, with its files.
type dlAllowed struct {
	row    dlVersion
	direct bool // a licence is entitled to it, not only by downgrade right
	files  []FileDownload
}

// List returns what user may download, grouped by product (by name), each
// product's versions newest first, each version's files by language and
// name. Nothing of a product none of the user's licences is entitled to
// appears.
func (d *Downloads) List(ctx context.Context, user int64, f DownloadFilter) ([]ProductDownloads, error) {
	licences, err := d.downloadLicences(ctx, user)
	if err != nil || len(licences) == 0 {
		return []ProductDownloads{}, err
	}
	ents, err := d.store.EntitledVersions(ctx, licences, models.EntitlementFilter{ProductCode: strings.TrimSpace(f.Product), VersionsOnly: true})
	if err != nil || len(ents) == 0 {
		return []ProductDownloads{}, err
	}
	byProduct := map[int64][]dlEntitled{}
	for _, e := range ents {
		byProduct[e.ProductID] = append(byProduct[e.ProductID], e)
	}
	productIDs := slices.Sorted(maps.Keys(byProduct))
	products, err := d.store.ProductsByID(ctx, productIDs)
	if err != nil {
		return nil, err
	}
	allowed, allowedIDs, err := d.allowedVersions(ctx, productIDs, byProduct)
	if err != nil || len(allowedIDs) == 0 {
		return []ProductDownloads{}, err
	}
	files, err := d.store.FilesOfVersions(ctx, allowedIDs, strings.TrimSpace(f.Language))
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		if a := allowed[file.VersionID]; a != nil {
			a.files = append(a.files, FileDownload{ID: file.ID, Name: file.Name, Language: file.Language, Size: file.Size, SHA256: file.SHA256})
		}
	}
	return dlGroup(products, allowed, allowedIDs, strings.ToLower(strings.TrimSpace(f.Query))), nil
}

// allowedVersions returns the versions of the products that the
// entitlements (by product) let the user download, by id, and their ids.
// Which ones is decided here, by date or version number (see dlEarlier).
func (d *Downloads) allowedVersions(ctx context.Context, productIDs []int64, byProduct map[int64][]dlEntitled) (map[int64]*dlAllowed, []int64, error) {
	versions, err := d.store.VersionsOfProducts(ctx, productIDs)
	if err != nil {
		return nil, nil, err
	}
	allowed := map[int64]*dlAllowed{}
	var ids []int64
	for _, v := range versions {
		if _, direct, ok := dlGrants(v, byProduct[v.ProductID]); ok {
			allowed[v.ID] = &dlAllowed{row: v, direct: direct}
			ids = append(ids, v.ID)
		}
	}
	return allowed, ids, nil
}

// dlGroup groups the allowed versions that have files matching query (all
// of them when it is empty) by product, products by name, versions newest
// first, files by language and name.
func dlGroup(products []models.Product, allowed map[int64]*dlAllowed, ids []int64, query string) []ProductDownloads {
	type productOut struct {
		out      ProductDownloads
		versions []dlVersionOut
	}
	byID := make(map[int64]*productOut, len(products))
	for _, p := range products {
		byID[p.ID] = &productOut{out: ProductDownloads{Code: p.Code, Name: p.Name}}
	}
	for _, id := range ids {
		a := allowed[id]
		p := byID[a.row.ProductID]
		if p == nil {
			continue
		}
		v := a.row
		kept := dlMatching(p.out.Name, v, a.files, query)
		if len(kept) == 0 {
			continue
		}
		slices.SortFunc(kept, func(a, b FileDownload) int {
			return cmp.Or(strings.Compare(a.Language, b.Language), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		})
		p.versions = append(p.versions, dlVersionOut{row: v, out: VersionDownloads{ID: v.ID, Version: v.Version, Edition: v.Edition,
			Released: v.Released.String(), Downgrade: !a.direct, Files: kept}})
	}
	out := make([]ProductDownloads, 0, len(byID))
	for _, p := range byID {
		if len(p.versions) == 0 {
			continue
		}
		slices.SortFunc(p.versions, func(a, b dlVersionOut) int { return dlNewestFirst(a.row, b.row) })
		p.out.Versions = make([]VersionDownloads, len(p.versions))
		for i, v := range p.versions {
			p.out.Versions[i] = v.out
		}
		out = append(out, p.out)
	}
	slices.SortFunc(out, func(a, b ProductDownloads) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Code, b.Code))
	})
	return out
}

// dlMatching returns the files of version v of product that match query
// (lower case): all of them when the product name, version or edition
// contains it, else those whose name does.
func dlMatching(product string, v dlVersion, files []FileDownload, query string) []FileDownload {
	if query == "" || strings.Contains(strings.ToLower(product), query) ||
		strings.Contains(strings.ToLower(v.Version), query) || strings.Contains(strings.ToLower(v.Edition), query) ||
		strings.Contains(strings.ToLower(product+" "+v.Version), query) {
		return files
	}
	var kept []FileDownload
	for _, file := range files {
		if strings.Contains(strings.ToLower(file.Name), query) {
			kept = append(kept, file)
		}
	}
	return kept
}

// dlAccess is a file the user may download, with what the audit log
// records of it.
type dlAccess struct {
	file    models.ProductFile
	version dlVersion
	product models.Product
	licence int64 // a licence that entitles the user to the file
}

// access checks that user may download file and says through which
// licence. A missing file and a forbidden one are both ErrNoSuchFile.
func (d *Downloads) access(ctx context.Context, user, fileID int64) (*dlAccess, error) {
	licences, err := d.downloadLicences(ctx, user)
	if err != nil {
		return nil, err
	}
	if len(licences) == 0 || fileID <= 0 {
		return nil, ErrNoSuchFile
	}
	c, err := d.store.CatalogFileByID(ctx, fileID)
	if errors.Is(err, models.ErrNoSuchCatalogFile) {
		return nil, ErrNoSuchFile
	}
	if err != nil {
		return nil, err
	}
	a := dlAccess{file: c.File, version: c.Version, product: c.Product}
	ents, err := d.store.EntitledVersions(ctx, licences, models.EntitlementFilter{ProductID: a.version.ProductID, Edition: &a.version.Edition})
	if err != nil {
		return nil, err
	}
	licence, _, ok := dlGrants(a.version, ents)
	if !ok {
		return nil, ErrNoSuchFile
	}
	a.licence = licence
	return &a, nil
}

// sign computes the signature of a link to file for user, expiring at exp.
func (d *Downloads) sign(fileID, user, exp int64) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(strconv.FormatInt(fileID, 10) + "|" + strconv.FormatInt(user, 10) + "|" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SignedLink checks that user may download file and returns a link to it
// that only user can use, until it expires.
func (d *Downloads) SignedLink(ctx context.Context, user, fileID int64) (DownloadLink, error) {
	a, err := d.access(ctx, user, fileID)
	if err != nil {
		return DownloadLink{}, err
	}
	expires := d.store.Now().Add(d.ttl).Truncate(time.Second)
	exp := expires.Unix()
	u := "/dl/" + strconv.FormatInt(fileID, 10) + "?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + d.sign(fileID, user, exp)
	return DownloadLink{URL: u, ExpiresAt: expires, SHA256: a.file.SHA256, Name: a.file.Name, Size: a.file.Size}, nil
}

// Link is SignedLink's URL and expiry.
func (d *Downloads) Link(ctx context.Context, user, fileID int64) (string, time.Time, error) {
	l, err := d.SignedLink(ctx, user, fileID)
	return l.URL, l.ExpiresAt, err
}

// Open checks a download link (its signature, that it was made for user,
// its expiry) and that user may still download the file, and opens it. A
// link that was tampered with or made for someone else is ErrNoSuchFile;
// an expired one ErrDownloadLinkExpired. The caller closes the file.
func (d *Downloads) Open(ctx context.Context, user, fileID, exp int64, sig string) (StoredFile, *models.ProductFile, error) {
	pf, err := d.Check(ctx, user, fileID, exp, sig)
	if err != nil {
		return nil, nil, err
	}
	f, err := d.storage.Open(ctx, pf.Path)
	if err != nil {
		return nil, nil, err
	}
	return f, pf, nil
}

// Check checks a download link as Open does, without opening the file.
func (d *Downloads) Check(ctx context.Context, user, fileID, exp int64, sig string) (*models.ProductFile, error) {
	want := d.sign(fileID, user, exp)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return nil, ErrNoSuchFile
	}
	if d.store.Now().Unix() > exp {
		return nil, ErrDownloadLinkExpired
	}
	a, err := d.access(ctx, user, fileID)
	if err != nil {
		return nil, err
	}
	return &a.file, nil
}

// Redirect returns a short-lived URL of the storage's own for a file that
// Check admitted, when the storage sends clients there (a Redirector not
// configured to stream); ok is false when the server must stream it.
func (d *Downloads) Redirect(ctx context.Context, file *models.ProductFile) (u string, ok bool, err error) {
	r, is := d.storage.(Redirector)
	if !is {
		return "", false, nil
	}
	return r.RedirectURL(ctx, file.Path, file.Name)
}

// RecordDownload writes the audit event of user downloading file, on a
// licence that entitles them to it.
func (d *Downloads) RecordDownload(ctx context.Context, user int64, file *models.ProductFile, sourceAddr string) error {
	a, err := d.access(ctx, user, file.ID)
	if err != nil {
		return err
	}
	actor := userActor(user)
	actor.SourceAddr = sourceAddr
	details := map[string]any{
		"file_id":  a.file.ID,
		"file":     a.file.Name,
		"product":  a.product.Name,
		"version":  a.version.Version,
		"language": a.file.Language,
		"size":     a.file.Size,
	}
	if a.version.Edition != "" {
		details["edition"] = a.version.Edition
	}
	return d.store.InTx(ctx, func(tx *models.Tx) error {
		return tx.AppendAudit(actor, AuditDownload, &a.licence, details)
	})
}

// OpenFile opens the bytes of a file that Check admitted.
func (d *Downloads) OpenFile(ctx context.Context, file *models.ProductFile) (StoredFile, error) {
	return d.storage.Open(ctx, file.Path)
}
