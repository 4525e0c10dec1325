package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// BenchmarkDownloadsList lists the downloads of a user with 50 licences
// (download_manager), each entitled to 3 products, in a catalog of 2,000
// products × 10 versions × 2 files, and reports the p50 and p99 of ~200
// calls timed one by one. Target: p99 ≤ 20 ms on SQLite.
//
//	go test -run '^$' -bench DownloadsList -benchtime=1x ./app/
func BenchmarkDownloadsList(b *testing.B) {
	const (
		products = 2000
		versions = 10
		licences = 50
		perLic   = 3
		calls    = 200
	)
	ctx := context.Background()
	store := modelstest.Open(b, modelstest.URL(b), models.Options{Keyring: modelstest.Keyring(b)})
	doc := &models.ImportDocument{Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}}}
	for i := range licences {
		doc.Agreements = append(doc.Agreements, models.ImportAgreement{Program: "open_value", Number: fmt.Sprintf("L%03d", i), Organization: "C1"})
	}
	sum := fmt.Sprintf("%064x", 1)
	for p := range products {
		pr := models.ImportProduct{ID: fmt.Sprintf("p%04d", p), Name: fmt.Sprintf("Product %04d", p)}
		for v := range versions {
			ver := models.ImportVersion{Version: fmt.Sprintf("%d.0", v+1), Edition: "Standard",
				Released: time.Date(2015+v, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)}
			for _, lang := range []string{"en", "ja"} {
				ver.Files = append(ver.Files, models.ImportFile{Name: fmt.Sprintf("p%04d_%d_%s.iso", p, v, lang), Language: lang,
					Size: 1 << 30, SHA256: sum, Path: fmt.Sprintf("p%04d/%d/%s.iso", p, v, lang)})
			}
			pr.Versions = append(pr.Versions, ver)
		}
		doc.Products = append(doc.Products, pr)
	}
	for l := range licences {
		for k := range perLic {
			p := (l*37 + k*401) % products
			doc.Entitlements = append(doc.Entitlements, models.ImportEntitlement{Agreement: fmt.Sprintf("L%03d", l),
				Product: fmt.Sprintf("p%04d", p), Version: fmt.Sprintf("%d.0", 5+(l+k)%5)})
		}
	}
	if _, err := store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "bench"}}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	email := "dm@contoso.example"
	u := models.User{DisplayName: "dm", Language: "en", WorkEmail: &email, WorkEmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
	modelstest.Create(b, store, &u)
	az, err := authz.New(ctx, store, authz.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = az.Close() })
	var ids []int64
	for _, a := range modelstest.Find(b, store, models.Agreement{}) {
		ids = append(ids, a.ID)
	}
	err = store.InTx(ctx, func(tx *models.Tx) error {
		for _, id := range ids {
			if err := az.Grant(tx, models.Actor{Label: "system"}, u.ID, &id, models.PermDownloadManager, models.SourceDirect); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	storage, err := app.NewDirStorage(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	d := app.NewDownloads(store, az, app.DownloadsOptions{Storage: storage})
	got, err := d.List(ctx, u.ID, app.DownloadFilter{})
	if err != nil {
		b.Fatal(err)
	}
	files := 0
	for _, p := range got {
		for _, v := range p.Versions {
			files += len(v.Files)
		}
	}
	if len(got) < licences || files == 0 {
		b.Fatalf("listed %d products, %d files", len(got), files)
	}
	b.ResetTimer()
	for range b.N {
		times := make([]time.Duration, 0, calls)
		for range calls {
			start := time.Now()
			if _, err := d.List(ctx, u.ID, app.DownloadFilter{}); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
		b.ReportMetric(float64(len(got)), "products")
		b.ReportMetric(float64(files), "files")
	}
}
