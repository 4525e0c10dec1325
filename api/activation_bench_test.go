package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// activationBench is one measured scenario.
type activationBench struct {
	name     string
	rate     float64       // requests per second
	p50, p99 time.Duration // latency
	cpu      time.Duration // CPU time of the process (server and client) per request
	failed   int64         // answers other than the scenario's expected one
}

// TestActivationBench measures online activations over loopback HTTP at 64
// concurrent connections (OPENLSC_BENCH_CONNS), each sending
// OPENLSC_BENCH_REQUESTS (default 30) — new installations, repeat
// activations and refusals, all on one MAK — and a bare gin handler over
// the same client in the same run, for the ratio: requests per second,
// p50/p99 latency and CPU per request. It runs only with
// OPENLSC_ACTIVATION_BENCH=1 (`make bench-activation` runs it on both
// databases; PostgreSQL with OPENLSC_TEST_DATABASE_URL, as every test).
func TestActivationBench(t *testing.T) {
	if os.Getenv("OPENLSC_ACTIVATION_BENCH") == "" {
		t.Skip("set OPENLSC_ACTIVATION_BENCH=1 to run the activation benchmark")
	}
	conns, perConn := benchEnvInt(t, "OPENLSC_BENCH_CONNS", 64), benchEnvInt(t, "OPENLSC_BENCH_REQUESTS", 30)
	env := newActivationEnv(t, []models.ImportKey{
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actMAK, ActivationLimit: i64p(1 << 30), ActivationsUsed: i64p(0)},
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actBlocked, ActivationLimit: i64p(1), ActivationsUsed: i64p(1)},
	}, nil)
	bare := gin.New()
	bare.POST("/bare", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	bareSrv := httptest.NewServer(bare)
	t.Cleanup(bareSrv.Close)
	env.client.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	// The signing key is made before the clock starts.
	if _, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(1, 0)); err != nil {
		t.Fatal(err)
	}

	run := func(name string, do func(conn, i int) error) activationBench {
		var lat []time.Duration
		var mu sync.Mutex
		var failed atomic.Int64
		start, cpu0 := time.Now(), modelstest.ProcessCPU()
		var wg sync.WaitGroup
		for c := range conns {
			wg.Go(func() {
				mine := make([]time.Duration, 0, perConn)
				for i := range perConn {
					t0 := time.Now()
					if err := do(c, i); err != nil {
						failed.Add(1)
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed, cpu := time.Since(start), modelstest.ProcessCPU()-cpu0
		slices.Sort(lat)
		return activationBench{name: name, rate: float64(len(lat)) / elapsed.Seconds(), p50: lat[len(lat)/2],
			p99: lat[len(lat)*99/100], cpu: cpu / time.Duration(len(lat)), failed: failed.Load()}
	}
	client := env.client.HTTP
	results := []activationBench{run("bare gin handler", func(int, int) error {
		resp, err := client.Post(bareSrv.URL+"/bare", "application/json", nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	})}
	results = append(results, run("new installation", func(c, i int) error {
		_, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(100000+c*perConn+i, 0))
		return err
	}))
	results = append(results, run("repeat activation", func(c, i int) error {
		_, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(100000+c*perConn+i, 0))
		return err
	}))
	results = append(results, run("refused (limit)", func(c, i int) error {
		_, err := env.client.Activate(env.ctx, actBlocked, "win-ent", machine(c*perConn+i, 0))
		if e, ok := err.(*activation.Error); ok && e.Code == activation.CodeLimitReached {
			return nil
		}
		return fmt.Errorf("not refused: %v", err)
	}))
	t.Logf("%s, %d connections × %d requests, loopback HTTP, client and server in one process:", modelstest.Name(), conns, perConn)
	t.Logf("| scenario | req/s | p50 ms | p99 ms | CPU µs/req | req/s × bare gin | unexpected |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		t.Logf("| %s | %.0f | %.1f | %.1f | %.0f | %.3f | %d |", r.name, r.rate, ms(r.p50), ms(r.p99),
			float64(r.cpu.Microseconds()), r.rate/results[0].rate, r.failed)
	}
}

// benchEnvInt is the positive integer in the environment variable name,
// or def.
func benchEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: give one positive number", name, v)
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
