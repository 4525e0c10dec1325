package app

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
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

// downloadInlineIDs is the longest licence list sent as "IN (?, …)"; longer
// ones travel as one array parameter (see Audit.idArray).
const downloadInlineIDs = 100

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

// NewDownloads returns the downloads use cases; linkTTL is the lifetime of
// a download link (DefaultLinkTTL when 0 or less).
func NewDownloads(store *models.Store, az *authz.Authorizer, storage Storage, keys *models.Keyring, linkTTL time.Duration) *Downloads {
	if linkTTL <= 0 {
		linkTTL = DefaultLinkTTL
	}
	return &Downloads{store: store, authz: az, storage: storage, key: keys.SubKey(linkPurpose), ttl: linkTTL}
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
type dlVersion struct {
	ID        int64
	ProductID int64
	Version   string
	Edition   string
	Released  models.Date
}

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
	var verified bool
	err := d.store.DB().WithContext(ctx).Raw("SELECT work_email_verified_at IS NOT NULL FROM users WHERE id = ?", user).Row().Scan(&verified)
	if errors.Is(err, sql.ErrNoRows) {
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

// inIDs returns a condition "column is one of ids" with its argument: an
// inline list for short ones, one array parameter for long ones.
func (d *Downloads) inIDs(column string, ids []int64) (string, any) {
	if len(ids) <= downloadInlineIDs {
		return column + " IN ?", ids
	}
	var b strings.Builder
	b.Grow(len(ids) * 8)
	open, end := "[", "]"
	if d.store.Dialect() == models.DialectPostgres {
		open, end = "{", "}"
	}
	b.WriteString(open)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString(end)
	if d.store.Dialect() == models.DialectPostgres {
		return column + " = ANY(CAST(? AS bigint[]))", b.String()
	}
	return column + " IN (SELECT value FROM json_each(?))", b.String()
}

// dlEntitled is a version a licence is entitled to.
type dlEntitled struct {
	dlVersion
	AgreementID int64
}

// entitled returns the versions the licences are entitled to, optionally
// only of one product (by id) or product code.
func (d *Downloads) entitled(ctx context.Context, licences []int64, productID int64, edition *string, productCode string) ([]dlEntitled, error) {
	cond, arg := d.inIDs("e.agreement_id", licences)
	q := d.store.DB().WithContext(ctx).Table("entitlements AS e").
		Select("e.agreement_id, v.id, v.product_id, v.version, v.edition, v.released").
		Joins("JOIN product_versions v ON v.id = e.version_id").
		Where(cond, arg)
	if productID != 0 {
		q = q.Where("v.product_id = ?", productID)
	}
	if edition != nil {
		q = q.Where("v.edition = ?", *edition)
	}
	if productCode != "" {
		q = q.Joins("JOIN products p ON p.id = v.product_id").Where("p.code = ?", productCode)
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dlEntitled
	for rows.Next() {
		var r dlEntitled
		if err := rows.Scan(&r.AgreementID, &r.ID, &r.ProductID, &r.Version, &r.Edition, &r.Released); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

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
		case !direct && dlEarlier(v, e.dlVersion):
			if !ok || e.AgreementID < licence {
				licence = e.AgreementID
			}
			ok = true
		}
	}
	return licence, direct, ok
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
	f.Product = strings.TrimSpace(f.Product)
	ents, err := d.entitled(ctx, licences, 0, nil, f.Product)
	if err != nil || len(ents) == 0 {
		return []ProductDownloads{}, err
	}
	byProduct := map[int64][]dlEntitled{}
	for _, e := range ents {
		byProduct[e.ProductID] = append(byProduct[e.ProductID], e)
	}
	productIDs := make([]int64, 0, len(byProduct))
	for id := range byProduct {
		productIDs = append(productIDs, id)
	}
	slices.Sort(productIDs)

	// The products, their versions, the files of the versions the user
	// may have: three queries with few columns each.
	type productOut struct {
		out      ProductDownloads
		versions []dlVersionOut
	}
	products := make(map[int64]*productOut, len(productIDs))
	cond, arg := d.inIDs("id", productIDs)
	prows, err := d.store.DB().WithContext(ctx).Table("products").Select("id, code, name").Where(cond, arg).Rows()
	if err != nil {
		return nil, err
	}
	for prows.Next() {
		var id int64
		var p ProductDownloads
		if err := prows.Scan(&id, &p.Code, &p.Name); err != nil {
			prows.Close()
			return nil, err
		}
		products[id] = &productOut{out: p}
	}
	if err := prows.Err(); err != nil {
		prows.Close()
		return nil, err
	}
	prows.Close()

	// The versions of those products; which of them the user may have is
	// decided here (by date or version number, see dlEarlier).
	type allowedVersion struct {
		row    dlVersion
		direct bool
		files  []FileDownload
	}
	allowed := map[int64]*allowedVersion{}
	var allowedIDs []int64
	cond, arg = d.inIDs("product_id", productIDs)
	vrows, err := d.store.DB().WithContext(ctx).Table("product_versions").
		Select("id, product_id, version, edition, released").Where(cond, arg).Rows()
	if err != nil {
		return nil, err
	}
	for vrows.Next() {
		var v dlVersion
		if err := vrows.Scan(&v.ID, &v.ProductID, &v.Version, &v.Edition, &v.Released); err != nil {
			vrows.Close()
			return nil, err
		}
		if _, direct, ok := dlGrants(v, byProduct[v.ProductID]); ok {
			allowed[v.ID] = &allowedVersion{row: v, direct: direct}
			allowedIDs = append(allowedIDs, v.ID)
		}
	}
	if err := vrows.Err(); err != nil {
		vrows.Close()
		return nil, err
	}
	vrows.Close()
	if len(allowedIDs) == 0 {
		return []ProductDownloads{}, nil
	}

	// Their files, with the filters.
	query := strings.ToLower(strings.TrimSpace(f.Query))
	lang := strings.TrimSpace(f.Language)
	cond, arg = d.inIDs("version_id", allowedIDs)
	fq := d.store.DB().WithContext(ctx).Table("product_files").
		Select("version_id, id, name, language, size, sha256").Where(cond, arg)
	if lang != "" {
		fq = fq.Where("LOWER(language) = LOWER(?)", lang)
	}
	rows, err := fq.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var vid int64
		var file FileDownload
		if err := rows.Scan(&vid, &file.ID, &file.Name, &file.Language, &file.Size, &file.SHA256); err != nil {
			return nil, err
		}
		if a := allowed[vid]; a != nil {
			a.files = append(a.files, file)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range allowedIDs {
		a := allowed[id]
		p := products[a.row.ProductID]
		if p == nil || len(a.files) == 0 {
			continue
		}
		v := a.row
		kept := a.files
		if query != "" && !strings.Contains(strings.ToLower(p.out.Name), query) &&
			!strings.Contains(strings.ToLower(v.Version), query) && !strings.Contains(strings.ToLower(v.Edition), query) &&
			!strings.Contains(strings.ToLower(p.out.Name+" "+v.Version), query) {
			kept = kept[:0]
			for _, file := range a.files {
				if strings.Contains(strings.ToLower(file.Name), query) {
					kept = append(kept, file)
				}
			}
			if len(kept) == 0 {
				continue
			}
		}
		slices.SortFunc(kept, func(a, b FileDownload) int {
			return cmp.Or(strings.Compare(a.Language, b.Language), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		})
		p.versions = append(p.versions, dlVersionOut{row: v, out: VersionDownloads{ID: v.ID, Version: v.Version, Edition: v.Edition,
			Released: v.Released.String(), Downgrade: !a.direct, Files: kept}})
	}

	out := make([]ProductDownloads, 0, len(products))
	for _, p := range products {
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
	return out, nil
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
	var a dlAccess
	row := d.store.DB().WithContext(ctx).Table("product_files AS f").
		Select("f.id, f.version_id, f.name, f.language, f.size, f.sha256, f.path, v.product_id, v.version, v.edition, v.released, p.code, p.name").
		Joins("JOIN product_versions v ON v.id = f.version_id").
		Joins("JOIN products p ON p.id = v.product_id").
		Where("f.id = ?", fileID).Row()
	err = row.Scan(&a.file.ID, &a.file.VersionID, &a.file.Name, &a.file.Language, &a.file.Size, &a.file.SHA256, &a.file.Path,
		&a.version.ProductID, &a.version.Version, &a.version.Edition, &a.version.Released, &a.product.Code, &a.product.Name)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoSuchFile
		}
		return nil, err
	}
	a.version.ID, a.product.ID = a.file.VersionID, a.version.ProductID
	ents, err := d.entitled(ctx, licences, a.version.ProductID, &a.version.Edition, "")
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
	want := d.sign(fileID, user, exp)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return nil, nil, ErrNoSuchFile
	}
	if d.store.Now().Unix() > exp {
		return nil, nil, ErrDownloadLinkExpired
	}
	a, err := d.access(ctx, user, fileID)
	if err != nil {
		return nil, nil, err
	}
	f, err := d.storage.Open(ctx, a.file.Path)
	if err != nil {
		return nil, nil, err
	}
	return f, &a.file, nil
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
