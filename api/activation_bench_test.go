package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestActivationBench measures online activations per second and their
// p50/p99 latency at 64 concurrent connections — new installations,
// repeat activations and refusals — and a bare gin handler over the same
// client in the same run, for the ratio. It runs only with
// OPENLSC_ACTIVATION_BENCH=1 (make it use PostgreSQL with
// OPENLSC_TEST_DATABASE_URL, as every test).
func TestActivationBench(t *testing.T) {
	if os.Getenv("OPENLSC_ACTIVATION_BENCH") == "" {
		t.Skip("set OPENLSC_ACTIVATION_BENCH=1 to run the activation benchmark")
	}
	const conns, perConn = 64, 30
	env := newActivationEnv(t, []models.ImportKey{
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actMAK, ActivationLimit: i64p(1 << 30), ActivationsUsed: i64p(0)},
		{Agreement: "V1", Product: "win-ent", Type: "mak", Key: actBlocked, ActivationLimit: i64p(1), ActivationsUsed: i64p(1)},
	}, nil)
	bare := gin.New()
	bare.POST("/bare", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	bareSrv := httptest.NewServer(bare)
	t.Cleanup(bareSrv.Close)

	run := func(name string, do func(conn, i int) error) float64 {
		var lat []time.Duration
		var mu sync.Mutex
		var failed atomic.Int64
		start := time.Now()
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
		rate := float64(len(lat)) / time.Since(start).Seconds()
		slices.Sort(lat)
		t.Logf("%-18s %s: %7.0f req/s  p50 %6.1f ms  p99 %6.1f ms  unexpected %d", name, modelstest.Name(), rate,
			ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), failed.Load())
		return rate
	}
	client := env.client.HTTP
	bareRate := run("bare gin", func(int, int) error {
		resp, err := client.Post(bareSrv.URL+"/bare", "application/json", nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	newRate := run("new installation", func(c, i int) error {
		_, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(100000+c*perConn+i, 0))
		return err
	})
	repeatRate := run("repeat", func(c, i int) error {
		_, err := env.client.Activate(env.ctx, actMAK, "win-ent", machine(100000+c*perConn+i, 0))
		return err
	})
	refusedRate := run("refused (limit)", func(c, i int) error {
		_, err := env.client.Activate(env.ctx, actBlocked, "win-ent", machine(c*perConn+i, 0))
		if e, ok := err.(*activation.Error); ok && e.Code == activation.CodeLimitReached {
			return nil
		}
		return fmt.Errorf("not refused: %v", err)
	})
	t.Logf("ratio to bare gin: new %.3f, repeat %.3f, refused %.3f", newRate/bareRate, repeatRate/bareRate, refusedRate/bareRate)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
