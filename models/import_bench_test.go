package models_test

import (
	"context"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// BenchmarkImportLarge loads 100k agreements and 200k keys into an empty
// database, then re-imports the same document (nothing changes). Run with
// -benchtime=1x; see README for the numbers.
func BenchmarkImportLarge(b *testing.B) {
	doc := modelstest.LargeImport(100_000)
	ctx := context.Background()
	for b.Loop() {
		s := modelstest.New(b)
		res, err := s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "bench"}})
		if err != nil {
			b.Fatal(err)
		}
		if res.Agreements.Created != 100_000 || res.Keys.Created != 200_000 {
			b.Fatalf("result %+v", res)
		}
	}
}

// BenchmarkReimportLarge re-imports an unchanged 100k-agreement document.
func BenchmarkReimportLarge(b *testing.B) {
	doc := modelstest.LargeImport(100_000)
	ctx := context.Background()
	s := modelstest.New(b)
	if _, err := s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "bench"}}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "bench"}})
		if err != nil {
			b.Fatal(err)
		}
		if res.Agreements.Unchanged != 100_000 || res.Keys.Unchanged != 200_000 {
			b.Fatalf("result %+v", res)
		}
	}
}
