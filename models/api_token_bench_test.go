package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// BenchmarkAPITokenByHashWithUser measures the statement every request
// made with an API token runs first (the token, its user and the user's
// pending work email), on the read pool. It reports the process's CPU per
// call next to latency: on a shared machine the wall-clock figure is two
// to three times the CPU one.
//
//	go test -run '^$' -bench APITokenByHashWithUser -benchmem ./models/
func BenchmarkAPITokenByHashWithUser(b *testing.B) {
	ctx := context.Background()
	s := modelstest.New(b)
	now := s.Now()
	hash := s.Keyring().Hash("bench-token", "secret")
	err := s.InTx(ctx, func(tx *models.Tx) error {
		u := models.User{DisplayName: "user", Language: "en", CreatedAt: now, UpdatedAt: now}
		if err := tx.DB().Create(&u).Error; err != nil {
			return err
		}
		return tx.CreateAPIToken(&models.APIToken{UserID: u.ID, Name: "bench", TokenHash: hash, Prefix: "olsc_", ExpiresAt: now.Add(time.Hour), CreatedAt: now}, 10)
	})
	if err != nil {
		b.Fatal(err)
	}
	cpu := modelstest.ProcessCPU()
	for b.Loop() {
		if _, user, err := s.APITokenByHashWithUser(ctx, hash); err != nil || user == nil {
			b.Fatalf("user %v, error %v", user, err)
		}
	}
	b.ReportMetric(float64(modelstest.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
}
