package demo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/demo"
	"github.com/openlsc/openlsc/models/modelstest"
)

func document(t *testing.T) *models.ImportDocument {
	t.Helper()
	doc, err := demo.Document()
	if err != nil {
		t.Fatalf("Document: %v", err)
	}
	return doc
}

// fileEntries returns every file entry of the document by path; the editions
// of a version may share a file, but then with the same size and checksum.
func fileEntries(t *testing.T, doc *models.ImportDocument) map[string]models.ImportFile {
	t.Helper()
	out := map[string]models.ImportFile{}
	for _, p := range doc.Products {
		for _, v := range p.Versions {
			for _, f := range v.Files {
				if prev, ok := out[f.Path]; ok && (prev.Size != f.Size || prev.SHA256 != f.SHA256) {
					t.Errorf("%s is listed with different sizes or checksums", f.Path)
				}
				out[f.Path] = f
			}
		}
	}
	return out
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDocument(t *testing.T) {
	doc := document(t)
	if len(doc.Organizations) != 2 {
		t.Errorf("%d organizations, want 2", len(doc.Organizations))
	}
	programs := map[string]int{}
	for _, a := range doc.Agreements {
		programs[a.Program]++
	}
	for _, p := range models.Programs {
		if programs[string(p)] == 0 {
			t.Errorf("no %s agreement", p)
		}
	}
	// A fresh document each time: callers may change what they get.
	doc.Agreements = nil
	if len(document(t).Agreements) == 0 {
		t.Error("Document returned a shared document")
	}
}

// TestFiles checks every file entry of demo.json against the embedded file,
// and that no embedded file is left out of the document.
func TestFiles(t *testing.T) {
	doc := document(t)
	entries := fileEntries(t, doc)
	if len(entries) == 0 {
		t.Fatal("no files in the document")
	}
	files := demo.Files()
	for p, f := range entries {
		data, err := fs.ReadFile(files, p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if int64(len(data)) != f.Size {
			t.Errorf("%s: %d bytes, demo.json says %d", p, len(data), f.Size)
		}
		if got := sum(data); got != f.SHA256 {
			t.Errorf("%s: sha256 %s, demo.json says %s", p, got, f.SHA256)
		}
		if len(data) < 1024 || len(data) > 64<<10 {
			t.Errorf("%s: %d bytes; keep demo files between 1 and 64 KiB", p, len(data))
		}
		if !strings.HasPrefix(string(data), "OpenLSC demo file: ") {
			t.Errorf("%s does not start with the demo file header", p)
		}
	}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, ok := entries[p]; !ok {
				t.Errorf("files/%s is not named in demo.json", p)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDowngradeRights checks that every product has earlier versions that
// only a downgrade right reaches, and that newest versions have Japanese and
// English files.
func TestDowngradeRights(t *testing.T) {
	doc := document(t)
	for _, p := range doc.Products {
		versions := map[string]string{} // version → released
		oldest, newest := "", ""
		for _, v := range p.Versions {
			versions[v.Version] = v.Released
			if oldest == "" || v.Released < versions[oldest] {
				oldest = v.Version
			}
			if newest == "" || v.Released > versions[newest] {
				newest = v.Version
			}
		}
		if len(versions) < 2 {
			t.Errorf("product %s has %d versions, want at least 2", p.ID, len(versions))
			continue
		}
		downgrade := false
		for _, e := range doc.Entitlements {
			if e.Product == p.ID && e.Version != oldest {
				downgrade = true
			}
		}
		if !downgrade {
			t.Errorf("no entitlement to a version of %s newer than %s: no downgrade right to show", p.ID, oldest)
		}
		for _, v := range p.Versions {
			if v.Version != newest {
				continue
			}
			langs := map[string]bool{}
			for _, f := range v.Files {
				langs[f.Language] = true
			}
			if !langs["ja"] || !langs["en"] {
				t.Errorf("%s %s %s: files in %v, want ja and en", p.ID, v.Version, v.Edition, langs)
			}
		}
	}
}

var keyPattern = regexp.MustCompile(`^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$`)

func TestKeys(t *testing.T) {
	doc := document(t)
	seen := map[string]bool{}
	types := map[string]int{}
	nearlyUsedUp := false
	for i, k := range doc.Keys {
		types[k.Type]++
		if !keyPattern.MatchString(k.Key) {
			t.Errorf("keys[%d]: %q is not a 5x5 key", i, k.Key)
		}
		if seen[k.Key] {
			t.Errorf("keys[%d]: %s is listed twice", i, k.Key)
		}
		seen[k.Key] = true
		if k.Type == models.KeyTypeMAK {
			if k.ActivationLimit == nil || k.ActivationsUsed == nil {
				t.Errorf("keys[%d]: a MAK without activation counts", i)
				continue
			}
			if *k.ActivationLimit-*k.ActivationsUsed <= *k.ActivationLimit/50 {
				nearlyUsedUp = true
			}
		}
	}
	if types[models.KeyTypeMAK] < 3 || types[models.KeyTypeKMS] < 2 {
		t.Errorf("key types %v: want several MAK and KMS keys", types)
	}
	if !nearlyUsedUp {
		t.Error("no MAK is nearly used up")
	}
}

func TestLoad(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	ctx := context.Background()
	s := modelstest.New(t)
	dir := filepath.Join(t.TempDir(), "storage")

	imported, err := demo.Load(ctx, s, dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !imported {
		t.Fatal("Load on an empty database did not import")
	}
	sn := modelstest.Snap(t, s)
	doc := document(t)
	if len(sn.Orgs) != 2 {
		t.Errorf("%d organizations, want 2", len(sn.Orgs))
	}
	if len(sn.Agreements) != len(doc.Agreements) {
		t.Errorf("%d agreements, want %d", len(sn.Agreements), len(doc.Agreements))
	}
	if len(sn.Keys) != len(doc.Keys) {
		t.Errorf("%d keys, want %d", len(sn.Keys), len(doc.Keys))
	}
	if len(sn.Products) != len(doc.Products) || len(sn.Products) < 4 {
		t.Errorf("%d products, want %d (at least 4)", len(sn.Products), len(doc.Products))
	}
	if len(sn.Audit) != 1 || sn.Audit[0].Kind != models.AuditImport || sn.Audit[0].Actor != "demo" {
		t.Errorf("audit events %+v, want one import by demo", sn.Audit)
	}

	byNumber := map[string]models.Agreement{}
	for _, a := range sn.Agreements {
		byNumber[a.Number] = a
	}
	for _, n := range []string{"M1000001", "E2000001", "E2000002", "S2000003", "V3000001", "V3000002"} {
		if _, ok := byNumber[n]; !ok {
			t.Errorf("agreement %s not imported", n)
		}
	}
	mbsa := byNumber["M1000001"]
	children := 0
	for _, a := range sn.Agreements {
		if a.ParentID != nil && *a.ParentID == mbsa.ID {
			children++
		}
	}
	if mbsa.Program != models.ProgramMBSA || children < 3 {
		t.Errorf("M1000001 is %s with %d agreements under it, want an mbsa with at least 3", mbsa.Program, children)
	}

	admins := map[int64]int{} // agreement → primary and online_admin contacts
	for _, c := range sn.Contacts {
		if c.Role == models.ContactPrimary || c.Role == models.ContactOnlineAdmin {
			admins[c.AgreementID]++
		}
	}
	if n := admins[byNumber["V3000001"].ID]; n != 0 {
		t.Errorf("V3000001 has %d administrator contacts, want none (the licence without administrator)", n)
	}
	if admins[byNumber["V3000002"].ID] == 0 || admins[mbsa.ID] == 0 {
		t.Error("V3000002 and M1000001 should have administrator contacts")
	}

	keys := s.Keyring()
	for n, auth := range map[string]string{"V3000001": "12345678", "V3000002": "87654321"} {
		a := byNumber[n]
		if a.AuthHash == nil || *a.AuthHash != keys.HashAuthorizationNumber(auth) {
			t.Errorf("%s: authorization number %s does not match", n, auth)
		}
	}
	var mak, kms int
	for _, k := range sn.Keys {
		switch k.KeyType {
		case models.KeyTypeMAK:
			mak++
			if k.ActivationLimit == nil || k.ActivationsUsed == nil || *k.ActivationsUsed > *k.ActivationLimit {
				t.Errorf("MAK …%s: activation counts %v of %v", k.Suffix, k.ActivationsUsed, k.ActivationLimit)
			}
		case models.KeyTypeKMS:
			kms++
		}
		if _, err := keys.OpenKey(&k); err != nil {
			t.Errorf("key …%s does not open: %v", k.Suffix, err)
		}
	}
	if mak == 0 || kms == 0 {
		t.Errorf("%d MAK and %d KMS keys", mak, kms)
	}

	checkStorage(t, dir, doc)

	// A second Load imports nothing and changes nothing.
	imported, err = demo.Load(ctx, s, dir)
	if err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if imported {
		t.Error("second Load imported again")
	}
	if after := modelstest.Snap(t, s); !reflect.DeepEqual(after, sn) {
		t.Errorf("second Load changed the database:\nbefore %+v\nafter  %+v", sn, after)
	}
	checkStorage(t, dir, doc)
}

// checkStorage checks that every file of doc is in dir with its checksum.
func checkStorage(t *testing.T, dir string, doc *models.ImportDocument) {
	t.Helper()
	for p, f := range fileEntries(t, doc) {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("storage: %v", err)
			continue
		}
		if int64(len(data)) != f.Size || sum(data) != f.SHA256 {
			t.Errorf("storage: %s has %d bytes, sha256 %s; want %d, %s", p, len(data), sum(data), f.Size, f.SHA256)
		}
	}
}

func TestLoadRefillsStorage(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	doc := document(t)
	if _, err := demo.Load(ctx, s, filepath.Join(t.TempDir(), "first")); err != nil {
		t.Fatal(err)
	}
	// The database holds the demo data; a new, empty storage directory is
	// filled all the same.
	dir := filepath.Join(t.TempDir(), "wiped")
	imported, err := demo.Load(ctx, s, dir)
	if err != nil {
		t.Fatal(err)
	}
	if imported {
		t.Error("Load imported into a database that holds agreements")
	}
	checkStorage(t, dir, doc)

	// One file removed is written again; the others are left alone.
	var some string
	for p := range fileEntries(t, doc) {
		some = p
		break
	}
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(some))); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, s, dir); err != nil {
		t.Fatal(err)
	}
	checkStorage(t, dir, doc)
}

func TestLoadKeepsDifferentFile(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	doc := document(t)
	var some string
	for p := range fileEntries(t, doc) {
		some = p
		break
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, filepath.FromSlash(some))
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte("someone else's file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := demo.Load(ctx, s, dir)
	if err == nil || !strings.Contains(err.Error(), dst) {
		t.Fatalf("Load over a different file: %v, want an error naming %s", err, dst)
	}
	if data, _ := os.ReadFile(dst); string(data) != "someone else's file\n" {
		t.Errorf("the existing file was overwritten: %q", data)
	}
	if sn := modelstest.Snap(t, s); len(sn.Agreements) != 0 {
		t.Errorf("Load imported %d agreements although the files could not be copied", len(sn.Agreements))
	}
}
