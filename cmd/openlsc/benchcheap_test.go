package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestBenchCheapRoutes measures the server's own cost of the cheap routes
// of TestBenchHTTP (GET /api/v1/me and the keys of a small licence, by API
// token, and the same user's session on the work email page), calling the
// handler in process: no network, no load generator, so the figure is
// steadier than one over HTTP on a shared machine. Skipped unless
// OPENLSC_BENCH_CHEAP is set; sized like TestBenchHTTP (OPENLSC_BENCH_*),
// SQLite unless OPENLSC_BENCH_DATABASE_URL is a postgres:// URL.
//
//	OPENLSC_BENCH_CHEAP=1 go test -run '^TestBenchCheapRoutes$' -count=1 ./cmd/openlsc/
func TestBenchCheapRoutes(t *testing.T) {
	if os.Getenv("OPENLSC_BENCH_CHEAP") == "" {
		t.Skip("set OPENLSC_BENCH_CHEAP=1")
	}
	size := benchHTTPSizeFromEnv(t)
	db := benchDatabase(t)
	gin.SetMode(gin.ReleaseMode)
	m, _ := startBenchServer(t, db)
	ds := generateBenchData(t, m, size)
	routes := append(ds.routes()[:2], benchRoute{name: "page /account/work-email (session)", path: "/account/work-email", user: ds.plain, page: true})
	bare := gin.New()
	bare.Use(gin.Recovery())
	bare.GET("/", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	floor := serveInProcess(t, bare, benchRoute{name: "bare gin", path: "/"})
	fmt.Printf("%-36s %9s %9s %9s\n", "route", "ns/op", "cpu-ns/op", "allocs/op")
	fmt.Printf("%-36s %9d %9.0f %9d\n", "bare gin handler", floor.NsPerOp(), floor.Extra["cpu-ns/op"], floor.AllocsPerOp())
	for _, r := range routes {
		if size.only != "" && !strings.Contains(r.name, size.only) {
			continue
		}
		res := serveInProcess(t, m.handler, r)
		fmt.Printf("%-36s %9d %9.0f %9d\n", r.name, res.NsPerOp(), res.Extra["cpu-ns/op"], res.AllocsPerOp())
	}
}

// serveInProcess benchmarks h answering r with 200.
func serveInProcess(t *testing.T, h http.Handler, r benchRoute) testing.BenchmarkResult {
	// Like net/http's, the request's context can end: database/sql and the
	// drivers do more for such a context than for context.Background.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, r.path, nil)
	if r.user != nil {
		if r.page {
			req.AddCookie(&http.Cookie{Name: "openlsc_session", Value: r.user.cookie})
			req.Header.Set("Accept", "text/html")
		} else {
			req.Header.Set("Authorization", "Bearer "+r.user.token)
		}
	}
	failed := 0
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		c0 := modelstest.ProcessCPU()
		defer func() { b.ReportMetric(float64(modelstest.ProcessCPU()-c0)/float64(b.N), "cpu-ns/op") }()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				failed++
			}
		}
	})
	if failed > 0 {
		t.Errorf("%s: %d requests failed", r.name, failed)
	}
	return res
}
