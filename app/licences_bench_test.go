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

// BenchmarkTree builds the relationship summary of an administrator who
// inherits an MBSA of 5,000 enrollments, among 20,000 agreements, and
// reports the p50 and p99 of the calls timed one by one.
//
//	go test -run '^$' -bench Tree -benchtime=200x -cpuprofile cpu.out ./app/
func BenchmarkTree(b *testing.B) {
	const (
		agreements  = 20_000
		enrollments = 5_000
	)
	ctx := context.Background()
	store := modelstest.Open(b, modelstest.URL(b), models.Options{Keyring: modelstest.Keyring(b)})
	doc := &models.ImportDocument{Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}}}
	for i := range agreements {
		a := models.ImportAgreement{Organization: "C1", Starts: "2026-01-01", Ends: "2028-12-31"}
		switch {
		case i == 0:
			a.Program, a.Number = "mbsa", "M000000"
		case i <= enrollments:
			a.Program, a.Number, a.Parent = "enterprise", fmt.Sprintf("E%06d", i), "M000000"
		default:
			a.Program, a.Number = "open_value", fmt.Sprintf("V%06d", i)
		}
		doc.Agreements = append(doc.Agreements, a)
	}
	if _, err := store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "bench"}}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	email := "admin@contoso.example"
	u := models.User{DisplayName: "admin", Language: "en", WorkEmail: &email, WorkEmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
	modelstest.Create(b, store, &u)
	az, err := authz.New(ctx, store, authz.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = az.Close() })
	mbsa, err := store.AgreementID(ctx, "M000000")
	if err != nil {
		b.Fatal(err)
	}
	err = store.InTx(ctx, func(tx *models.Tx) error {
		if err := az.Grant(tx, models.Actor{Label: "bench"}, u.ID, &mbsa, models.PermAdministrator, models.SourceDirect); err != nil {
			return err
		}
		return az.SetInheritance(tx, models.Actor{UserID: &u.ID}, u.ID, mbsa, true)
	})
	if err != nil {
		b.Fatal(err)
	}
	acc := app.NewAccounts(store, az, app.WorkEmailOptions{})
	tree, err := acc.Tree(ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	if len(tree) != 1 || len(tree[0].Children) != enrollments {
		b.Fatalf("tree has %d roots", len(tree))
	}
	b.ResetTimer()
	times := make([]time.Duration, 0, b.N)
	for range b.N {
		start := time.Now()
		if _, err := acc.Tree(ctx, u.ID); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
}
