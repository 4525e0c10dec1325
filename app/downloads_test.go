package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// downloadsFixture is a small catalog on a real store:
//
//	win  "10" Enterprise (2022)  earlier version, same edition: downgrade right
//	win  "11" Enterprise (2024)  L1 is entitled to it
//	win  "12" Enterprise (2025)  later: not allowed
//	win  "10" Pro        (2022)  earlier, but another edition: not allowed
//	nodate "9", "10" (no dates)  L1 is entitled to "10"; "9" by version order
//	office "2024"                L2's, another product
//
// L3 is entitled to win "10" Enterprise directly. Files live in a
// temporary storage directory.
type downloadsFixture struct {
	t       *testing.T
	ctx     context.Context
	store   *models.Store
	az      *authz.Authorizer
	d       *app.Downloads
	clock   *auditClock
	dir     string
	lic     map[string]int64
	users   map[string]int64
	files   map[string]models.ProductFile // by "product/version/edition/name"
	content map[string][]byte             // by path
}

func fileContent(p string) []byte {
	var b strings.Builder
	for i := 0; b.Len() < 300; i++ {
		fmt.Fprintf(&b, "%s:%04d|", p, i)
	}
	return []byte(b.String())
}

func newDownloadsFixture(t *testing.T) *downloadsFixture {
	t.Helper()
	f := &downloadsFixture{t: t, ctx: context.Background(), clock: &auditClock{t: t0}, lic: map[string]int64{}, users: map[string]int64{},
		files: map[string]models.ProductFile{}, content: map[string][]byte{}, dir: t.TempDir()}
	f.store = modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: f.clock.Now})
	file := func(p, name, lang string) models.ImportFile {
		c := fileContent(p)
		f.content[p] = c
		if err := os.MkdirAll(filepath.Join(f.dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.dir, p), c, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(c)
		return models.ImportFile{Name: name, Language: lang, Size: int64(len(c)), SHA256: hex.EncodeToString(sum[:]), Path: p}
	}
	ent := "Enterprise"
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "open_value", Number: "L1", Organization: "C1"},
			{Program: "open_value", Number: "L2", Organization: "C1"},
			{Program: "open_value", Number: "L3", Organization: "C1"},
		},
		Products: []models.ImportProduct{
			{ID: "win", Name: "Windows", Versions: []models.ImportVersion{
				{Version: "10", Edition: "Enterprise", Released: "2022-10-18", Files: []models.ImportFile{file("win/10-ent/en.iso", "win10_ent_en.iso", "en")}},
				{Version: "11", Edition: "Enterprise", Released: "2024-10-01", Files: []models.ImportFile{
					file("win/11-ent/en.iso", "win11_ent_en.iso", "en"), file("win/11-ent/ja.iso", "win11_ent_ja.iso", "ja")}},
				{Version: "12", Edition: "Enterprise", Released: "2025-10-01", Files: []models.ImportFile{file("win/12-ent/en.iso", "win12_ent_en.iso", "en")}},
				{Version: "10", Edition: "Pro", Released: "2022-10-18", Files: []models.ImportFile{file("win/10-pro/en.iso", "win10_pro_en.iso", "en")}},
			}},
			{ID: "nodate", Name: "Undated Tool", Versions: []models.ImportVersion{
				{Version: "9", Files: []models.ImportFile{file("nodate/9/en.zip", "tool9.zip", "en")}},
				{Version: "10", Files: []models.ImportFile{file("nodate/10/en.zip", "tool10.zip", "en")}},
			}},
			{ID: "office", Name: "Office", Versions: []models.ImportVersion{
				{Version: "2024", Released: "2024-10-01", Files: []models.ImportFile{file("office/2024/en.img", "office2024_en.img", "en")}},
			}},
		},
		Entitlements: []models.ImportEntitlement{
			{Agreement: "L1", Product: "win", Version: "11", Edition: &ent},
			{Agreement: "L1", Product: "nodate", Version: "10"},
			{Agreement: "L2", Product: "office", Version: "2024"},
			{Agreement: "L3", Product: "win", Version: "10", Edition: &ent},
		},
	}
	if _, err := f.store.Import(f.ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range modelstest.Find(t, f.store, models.Agreement{}) {
		f.lic[a.Number] = a.ID
	}
	products := map[int64]string{}
	for _, p := range modelstest.Find(t, f.store, models.Product{}) {
		products[p.ID] = p.Code
	}
	versions := map[int64]string{}
	for _, v := range modelstest.Find(t, f.store, models.ProductVersion{}) {
		versions[v.ID] = products[v.ProductID] + "/" + v.Version + "/" + v.Edition
	}
	for _, pf := range modelstest.Find(t, f.store, models.ProductFile{}) {
		f.files[versions[pf.VersionID]+"/"+pf.Name] = pf
	}
	now := f.clock.Now()
	for _, name := range []string{"download_manager", "administrator", "license_viewer", "key_reader", "none", "other", "both", "unverified"} {
		u := models.User{DisplayName: name, Language: "en", CreatedAt: now, UpdatedAt: now}
		if name != "unverified" {
			email := name + "@contoso.example"
			u.WorkEmail, u.WorkEmailVerifiedAt = &email, &now
		}
		modelstest.Create(t, f.store, &u)
		f.users[name] = u.ID
	}
	az, err := authz.New(f.ctx, f.store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	f.az = az
	grant := func(user string, licence string, p models.Permission) {
		id := f.lic[licence]
		err := f.store.InTx(f.ctx, func(tx *models.Tx) error {
			return az.Grant(tx, models.Actor{Label: "system"}, f.users[user], &id, p, models.SourceDirect)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []models.Permission{models.PermDownloadManager, models.PermAdministrator, models.PermLicenseViewer, models.PermKeyReader} {
		grant(string(p), "L1", p)
	}
	grant("other", "L1", models.PermDownloadManager)
	grant("both", "L1", models.PermDownloadManager)
	grant("both", "L3", models.PermDownloadManager)
	grant("unverified", "L1", models.PermAdministrator)
	storage, err := app.NewDirStorage(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = storage.Close() })
	f.d = app.NewDownloads(f.store, az, app.DownloadsOptions{Storage: storage})
	return f
}

func (f *downloadsFixture) file(key string) models.ProductFile {
	f.t.Helper()
	pf, ok := f.files[key]
	if !ok {
		f.t.Fatalf("no file %s", key)
	}
	return pf
}

// listed returns the files user sees, as "code/version/edition/name" with
// "*" appended to versions downloadable by downgrade right only.
func (f *downloadsFixture) listed(user string, flt app.DownloadFilter) []string {
	f.t.Helper()
	ps, err := f.d.List(f.ctx, f.users[user], flt)
	if err != nil {
		f.t.Fatalf("List(%s): %v", user, err)
	}
	var out []string
	for _, p := range ps {
		for _, v := range p.Versions {
			for _, file := range v.Files {
				s := p.Code + "/" + v.Version + "/" + v.Edition + "/" + file.Name
				if v.Downgrade {
					s += "*"
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// served follows a link the way /dl does and returns the bytes.
func (f *downloadsFixture) served(user int64, link string) ([]byte, *models.ProductFile, error) {
	f.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		f.t.Fatal(err)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(u.Path, "/dl/"), 10, 64)
	exp, _ := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
	sf, pf, err := f.d.Open(f.ctx, user, id, exp, u.Query().Get("sig"))
	if err != nil {
		return nil, nil, err
	}
	defer sf.Close()
	b, err := io.ReadAll(sf)
	if err != nil {
		f.t.Fatal(err)
	}
	if sf.Size() != int64(len(b)) {
		f.t.Errorf("Size() = %d, read %d bytes", sf.Size(), len(b))
	}
	return b, pf, nil
}

func TestDownloadsEntitlementMatrix(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newDownloadsFixture(t)
	targets := []struct {
		name, key string
		allowed   bool
	}{
		{"entitled version", "win/11/Enterprise/win11_ent_en.iso", true},
		{"earlier version, same edition", "win/10/Enterprise/win10_ent_en.iso", true},
		{"earlier version, other edition", "win/10/Pro/win10_pro_en.iso", false},
		{"later version", "win/12/Enterprise/win12_ent_en.iso", false},
		{"other product", "office/2024//office2024_en.img", false},
		{"undated earlier version", "nodate/9//tool9.zip", true},
	}
	roles := []struct {
		user string
		may  bool
	}{
		{"download_manager", true}, {"administrator", true}, {"license_viewer", false}, {"key_reader", false}, {"none", false},
	}
	for _, r := range roles {
		list := f.listed(r.user, app.DownloadFilter{})
		for _, tg := range targets {
			t.Run(r.user+"/"+tg.name, func(t *testing.T) {
				want := r.may && tg.allowed
				pf := f.file(tg.key)
				listed := slices.ContainsFunc(list, func(s string) bool { return strings.TrimSuffix(s, "*") == tg.key })
				if listed != want {
					t.Errorf("listed = %v, want %v (list %v)", listed, want, list)
				}
				link, exp, err := f.d.Link(f.ctx, f.users[r.user], pf.ID)
				if !want {
					if err != app.ErrNoSuchFile {
						t.Errorf("Link = %q, %v; want ErrNoSuchFile", link, err)
					}
					// A link signed for someone else, replayed, is not served either.
					other, _, err := f.d.Link(f.ctx, f.users["download_manager"], pf.ID)
					if err == nil {
						if _, _, err := f.served(f.users[r.user], other); models.ErrorCode(err) != models.CodeNotFound {
							t.Errorf("another user's link served: %v", err)
						}
					}
					return
				}
				if err != nil {
					t.Fatalf("Link: %v", err)
				}
				if !exp.Equal(t0.Add(app.DefaultLinkTTL)) {
					t.Errorf("expires %v, want %v", exp, t0.Add(app.DefaultLinkTTL))
				}
				if !strings.HasPrefix(link, "/dl/"+strconv.FormatInt(pf.ID, 10)+"?exp=") || !strings.Contains(link, "&sig=") {
					t.Errorf("link %q", link)
				}
				b, got, err := f.served(f.users[r.user], link)
				if err != nil {
					t.Fatalf("served: %v", err)
				}
				if string(b) != string(f.content[pf.Path]) || got.SHA256 != pf.SHA256 {
					t.Errorf("served other bytes")
				}
			})
		}
	}
}

func TestDownloadsList(t *testing.T) {
	f := newDownloadsFixture(t)
	got := f.listed("download_manager", app.DownloadFilter{})
	wantDM := []string{
		// Products by name, versions newest first, files by language.
		"nodate/10//tool10.zip", "nodate/9//tool9.zip*",
		"win/11/Enterprise/win11_ent_en.iso", "win/11/Enterprise/win11_ent_ja.iso", "win/10/Enterprise/win10_ent_en.iso*",
	}
	if !slices.Equal(got, wantDM) {
		t.Errorf("download_manager sees\n%v\nwant\n%v", got, wantDM)
	}
	// A version also entitled directly is not marked as a downgrade.
	if got, want := f.listed("both", app.DownloadFilter{Product: "win"}), []string{
		"win/11/Enterprise/win11_ent_en.iso", "win/11/Enterprise/win11_ent_ja.iso", "win/10/Enterprise/win10_ent_en.iso",
	}; !slices.Equal(got, want) {
		t.Errorf("both sees %v, want %v", got, want)
	}
	for _, c := range []struct {
		f    app.DownloadFilter
		want []string
	}{
		{app.DownloadFilter{Product: "win"}, wantDM[2:]},
		{app.DownloadFilter{Product: "office"}, nil},
		{app.DownloadFilter{Language: "ja"}, []string{"win/11/Enterprise/win11_ent_ja.iso"}},
		{app.DownloadFilter{Query: "WINDOWS 11"}, []string{"win/11/Enterprise/win11_ent_en.iso", "win/11/Enterprise/win11_ent_ja.iso"}},
		{app.DownloadFilter{Query: "tool9"}, []string{"nodate/9//tool9.zip*"}},
		{app.DownloadFilter{Query: "undated", Language: "en"}, wantDM[:2]},
		{app.DownloadFilter{Query: "office"}, nil},
		{app.DownloadFilter{Query: "win12"}, nil},
	} {
		if got := f.listed("download_manager", c.f); !slices.Equal(got, c.want) {
			t.Errorf("filter %+v: %v, want %v", c.f, got, c.want)
		}
	}
	// JSON shape.
	ps, _ := f.d.List(f.ctx, f.users["download_manager"], app.DownloadFilter{Product: "nodate"})
	b, _ := json.Marshal(ps)
	for _, s := range []string{`"product":"nodate"`, `"name":"Undated Tool"`, `"downgrade":true`, `"sha256":"`, `"language":"en"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("JSON lacks %s: %s", s, b)
		}
	}
	if _, err := f.d.List(f.ctx, f.users["unverified"], app.DownloadFilter{}); err != app.ErrConfirmWorkEmail {
		t.Errorf("unverified: %v", err)
	}
	if _, _, err := f.d.Link(f.ctx, f.users["unverified"], f.file("win/11/Enterprise/win11_ent_en.iso").ID); err != app.ErrConfirmWorkEmail {
		t.Errorf("unverified link: %v", err)
	}
	if got := f.listed("none", app.DownloadFilter{}); len(got) != 0 {
		t.Errorf("none sees %v", got)
	}
}

func TestDownloadLinks(t *testing.T) {
	f := newDownloadsFixture(t)
	dm := f.users["download_manager"]
	pf := f.file("win/11/Enterprise/win11_ent_ja.iso")
	link, _, err := f.d.Link(f.ctx, dm, pf.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	exp, _ := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
	sig := u.Query().Get("sig")

	t.Run("Tampered", func(t *testing.T) {
		flip := []byte(sig)
		flip[0] ^= 1
		for name, c := range map[string]struct {
			id, exp int64
			sig     string
		}{
			"signature":    {pf.ID, exp, string(flip)},
			"empty":        {pf.ID, exp, ""},
			"later expiry": {pf.ID, exp + 3600, sig},
			"other file":   {f.file("win/11/Enterprise/win11_ent_en.iso").ID, exp, sig},
		} {
			if _, _, err := f.d.Open(f.ctx, dm, c.id, c.exp, c.sig); err != app.ErrNoSuchFile {
				t.Errorf("%s: %v, want ErrNoSuchFile", name, err)
			}
		}
	})
	t.Run("OtherUser", func(t *testing.T) {
		// "other" may download the file too, but not with dm's link.
		if _, _, err := f.d.Open(f.ctx, f.users["other"], pf.ID, exp, sig); err != app.ErrNoSuchFile {
			t.Errorf("other user: %v", err)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		f.clock.Set(t0.Add(app.DefaultLinkTTL))
		if _, _, err := f.served(dm, link); err != nil {
			t.Errorf("at expiry: %v", err)
		}
		f.clock.Set(t0.Add(app.DefaultLinkTTL + time.Second))
		_, _, err := f.served(dm, link)
		if models.ErrorCode(err) != models.CodeInvalid || models.ErrorMessage(err) != "This download link has expired; get a new one from the downloads page." {
			t.Errorf("expired: %v", err)
		}
		f.clock.Set(t0)
	})
	t.Run("Revoked", func(t *testing.T) {
		// The entitlement is checked again when the link is used.
		l1 := f.lic["L1"]
		link, _, err := f.d.Link(f.ctx, f.users["other"], pf.ID)
		if err != nil {
			t.Fatal(err)
		}
		err = f.store.InTx(f.ctx, func(tx *models.Tx) error {
			return f.az.Revoke(tx, models.Actor{Label: "system"}, f.users["other"], &l1, models.PermDownloadManager, models.SourceDirect)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.served(f.users["other"], link); err != app.ErrNoSuchFile {
			t.Errorf("after revoking: %v", err)
		}
	})
	t.Run("MissingFile", func(t *testing.T) {
		if err := os.Remove(filepath.Join(f.dir, pf.Path)); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.served(dm, link)
		if models.ErrorCode(err) != models.CodeNotFound || models.ErrorMessage(err) != "The file is not available on this server. Contact support." {
			t.Errorf("missing file: %v", err)
		}
	})
	t.Run("UnknownFile", func(t *testing.T) {
		if _, _, err := f.d.Link(f.ctx, dm, 987654); err != app.ErrNoSuchFile {
			t.Errorf("unknown file: %v", err)
		}
	})
}

func TestRecordDownload(t *testing.T) {
	f := newDownloadsFixture(t)
	dm := f.users["download_manager"]
	pf := f.file("win/10/Enterprise/win10_ent_en.iso")
	if err := f.d.RecordDownload(f.ctx, dm, &pf, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	evs := modelstest.Find(t, f.store, models.AuditEvent{Kind: app.AuditDownload})
	if len(evs) != 1 {
		t.Fatalf("%d download events", len(evs))
	}
	ev := evs[0]
	if ev.AgreementID == nil || *ev.AgreementID != f.lic["L1"] || ev.ActorID == nil || *ev.ActorID != dm || ev.SourceAddr != "192.0.2.9" {
		t.Errorf("event %+v", ev)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(ev.Details), &d); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"file": "win10_ent_en.iso", "product": "Windows", "version": "10", "language": "en", "size": float64(pf.Size)} {
		if d[k] != v {
			t.Errorf("details[%s] = %v, want %v", k, d[k], v)
		}
	}
	// Someone who may not download the file cannot record it either.
	if err := f.d.RecordDownload(f.ctx, f.users["license_viewer"], &pf, ""); err != app.ErrNoSuchFile {
		t.Errorf("license_viewer: %v", err)
	}
}

func TestDirStorage(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "files")
	s, err := app.NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b.iso"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "secret"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := s.Open(ctx, "a/b.iso")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	if string(b) != "56789" || f.Size() != 10 || f.ModTime().IsZero() {
		t.Errorf("read %q size %d", b, f.Size())
	}
	_ = f.Close()
	for _, p := range []string{"../../etc/passwd", "../secret", "/etc/passwd", "a/../../secret", "link", "a", "missing.iso", "", `a\b.iso`, "./a/b.iso"} {
		f, err := s.Open(ctx, p)
		if err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", p)
			continue
		}
		if err != app.ErrFileUnavailable {
			t.Errorf("Open(%q): %v, want ErrFileUnavailable", p, err)
		}
	}
}
