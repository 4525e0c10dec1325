package models_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestAuditEventsOfManyLicences selects the events of short and long
// licence lists: a long one travels as one array parameter.
func TestAuditEventsOfManyLicences(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	ctx := context.Background()
	s := modelstest.New(t)
	doc := &models.ImportDocument{Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}}}
	for i := range 150 {
		doc.Agreements = append(doc.Agreements, models.ImportAgreement{Program: "open_value", Number: fmt.Sprintf("V%03d", i), Organization: "C1"})
	}
	if _, err := s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 150 {
		id, err := s.AgreementID(ctx, fmt.Sprintf("V%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	err := s.InTx(ctx, func(tx *models.Tx) error {
		for _, id := range ids {
			if err := tx.AppendAudit(models.Actor{Label: "test"}, "test.event", &id, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    models.AuditQuery
		want int
	}{
		{"none", models.AuditQuery{Kind: "test.event"}, 0},
		{"one", models.AuditQuery{Licences: ids[:1], Kind: "test.event"}, 1},
		{"short list", models.AuditQuery{Licences: ids[:100], Kind: "test.event"}, 100},
		{"long list", models.AuditQuery{Licences: ids[10:130], Kind: "test.event"}, 120},
		{"long list, limited", models.AuditQuery{Licences: ids[10:130], Kind: "test.event", Limit: 7}, 7},
		{"all", models.AuditQuery{All: true, Kind: "test.event"}, 150},
	} {
		evs, err := s.AuditEvents(ctx, c.q)
		if err != nil || len(evs) != c.want {
			t.Errorf("%s: %d events, want %d (%v)", c.name, len(evs), c.want, err)
		}
	}
}
