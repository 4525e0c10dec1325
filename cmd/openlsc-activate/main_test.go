package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestRun runs the example command's code against the real activation
// service over HTTP: a MAK with two activations takes two machines, the
// third is refused with the limit's Windows code, and the first machine
// activates again.
func TestRun(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	gin.SetMode(gin.TestMode)
	ctx := context.Background()
	store := modelstest.New(t)
	limit, used, ent := int64(2), int64(0), "Enterprise"
	_, err := store.Import(ctx, &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements:    []models.ImportAgreement{{Program: "open_value", Number: "V1", Organization: "C1"}},
		Products:      []models.ImportProduct{{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: ent}}}},
		Keys:          []models.ImportKey{{Agreement: "V1", Product: "win-ent", Type: "mak", Key: "38JY4-KJHCK-YKP9W-RJ64B-WFP4D", ActivationLimit: &limit, ActivationsUsed: &used}},
	}, models.ImportOptions{Actor: models.Actor{Label: "cli"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Options{Logger: slog.New(slog.DiscardHandler), Activations: app.NewActivations(store, nil, app.ActivationsOptions{}),
		Limits: &limits.Set{Activation: limits.New(time.Nanosecond, 1<<20)}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c := &activation.Client{BaseURL: srv.URL}
	for _, step := range []struct {
		board      string
		code       int
		out, error string
	}{
		{"MB1", 0, `"key_suffix": "WFP4D"`, ""},
		{"MB2", 0, `"product": "win-ent"`, ""},
		{"MB3", 2, "", "refused: activation_limit_reached (0xC004C020)"},
		{"MB1", 0, `"key_suffix": "WFP4D"`, ""},
	} {
		var stdout, stderr bytes.Buffer
		id := activation.NewIdentity(map[string]string{"board": step.board, "disk": "S3Z9-" + step.board})
		code := run(ctx, c, "38JY4-KJHCK-YKP9W-RJ64B-WFP4D", "win-ent", id, &stdout, &stderr)
		if code != step.code || !strings.Contains(stdout.String(), step.out) || !strings.Contains(stderr.String(), step.error) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", step.board, code, step.code, stdout.String(), stderr.String())
		}
	}
}
