package models_test

import (
	"context"
	"slices"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/demo"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestDashboardStore runs the dashboard's reads on the demo data set.
func TestDashboardStore(t *testing.T) {
	ctx := context.Background()
	s := modelstest.New(t)
	if _, err := demo.Load(ctx, s, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	id := func(number string) int64 {
		t.Helper()
		n, err := s.AgreementID(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	e1, v2, v4 := id("E2000001"), id("V3000002"), id("V4000004")
	var alice, bob models.User
	err := s.InTx(ctx, func(tx *models.Tx) error {
		now := tx.Now()
		for _, u := range []*models.User{&alice, &bob} {
			*u = models.User{DisplayName: "user", Language: "en", CreatedAt: now, UpdatedAt: now}
			if err := tx.DB().Create(u).Error; err != nil {
				return err
			}
		}
		grants := []models.Grant{
			{UserID: alice.ID, AgreementID: &e1, Permission: models.PermAdministrator, Source: models.SourceDirect, CreatedAt: now},
			{UserID: alice.ID, AgreementID: &v4, Permission: models.PermAdministrator, Source: models.SourceDirect, CreatedAt: now},
			{UserID: bob.ID, AgreementID: &v4, Permission: models.PermAdministrator, Source: models.SourceContact, CreatedAt: now},
			{UserID: bob.ID, AgreementID: &e1, Permission: models.PermKeyReader, Source: models.SourceDirect, CreatedAt: now},
		}
		if err := tx.DB().Create(&grants).Error; err != nil {
			return err
		}
		reqs := []models.AccessRequest{
			{RequesterID: bob.ID, AgreementID: &e1, Program: models.Program("enterprise"), LicenseNumber: "E2000001", Permissions: "key_reader", Status: models.RequestPending, ExpiresAt: now, CreatedAt: now, UpdatedAt: now},
			{RequesterID: bob.ID, Program: models.Program("open_license"), LicenseNumber: "V3000001", Permissions: "key_reader", Status: models.RequestFailed, ExpiresAt: now, CreatedAt: now, UpdatedAt: now},
		}
		return tx.DB().Create(&reqs).Error
	})
	if err != nil {
		t.Fatal(err)
	}

	if n, err := s.PendingRequestCount(ctx, []int64{e1, v4}); err != nil || n != 1 {
		t.Errorf("PendingRequestCount = %d, %v; want 1", n, err)
	}
	if rs, err := s.RecentRequestsBy(ctx, bob.ID, 5); err != nil || len(rs) != 2 {
		t.Errorf("RecentRequestsBy = %d requests, %v; want 2", len(rs), err)
	}
	keys, err := s.KeysNearlyUsedUp(ctx, []int64{e1, v2, v4}, 90)
	if err != nil {
		t.Fatal(err)
	}
	var suffixes []string
	for _, k := range keys {
		suffixes = append(suffixes, k.Suffix+"@"+k.AgreementNumber)
	}
	slices.Sort(suffixes)
	if want := []string{"8663Y@V3000002", "WFP4D@E2000001"}; !slices.Equal(suffixes, want) {
		t.Errorf("KeysNearlyUsedUp = %v, want %v", suffixes, want)
	}
	if sole, err := s.SoleAdministrations(ctx, alice.ID, []int64{e1, v4}); err != nil || !slices.Equal(sole, []int64{e1}) {
		t.Errorf("SoleAdministrations = %v, %v; want [%d] (V4000004 has a second administrator)", sole, err, e1)
	}
	failed, activations, err := s.OperatorQueues(ctx)
	if err != nil || failed != 1 || activations != 0 {
		t.Errorf("OperatorQueues = %d, %d, %v; want 1, 0", failed, activations, err)
	}
}
