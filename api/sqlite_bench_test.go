package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// benchStats collects latencies and statuses of one kind of request.
type benchStats struct {
	mu       sync.Mutex
	took     []time.Duration
	statuses map[string]int
}

func (s *benchStats) add(d time.Duration, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.took = append(s.took, d)
	if s.statuses == nil {
		s.statuses = map[string]int{}
	}
	s.statuses[status]++
}

func (s *benchStats) report(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	slices.Sort(s.took)
	q := func(p float64) time.Duration {
		if len(s.took) == 0 {
			return 0
		}
		return s.took[min(len(s.took)-1, int(p*float64(len(s.took))))].Round(100 * time.Microsecond)
	}
	var keys []string
	for k := range s.statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s×%d", k, s.statuses[k])
	}
	slow := len(s.took) - sort.Search(len(s.took), func(i int) bool { return s.took[i] > 250*time.Millisecond })
	return fmt.Sprintf("%-6s n=%-6d p50=%-9v p99=%-9v p99.9=%-9v max=%-9v over 250 ms: %-4d statuses:%s",
		name, len(s.took), q(0.5), q(0.99), q(0.999), q(1), slow, b.String())
}

// BenchmarkSQLiteUnderImport imports 100k agreements and 200k keys into
// the SQLite file of a running server, from another store on that file
// (the openlsc binary in another process when OPENLSC_BENCH_BINARY names
// it, as `make bench-sqlite` does), while 16 clients read and write through
// the server's HTTP API; it prints read and write latency percentiles and
// the answers' statuses. Run with -benchtime=1x.
func BenchmarkSQLiteUnderImport(b *testing.B) {
	for b.Loop() {
		benchSQLiteUnderImport(b)
	}
}

func benchSQLiteUnderImport(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "openlsc.db")
	// The server's clock runs a minute ahead every second, so that every
	// session is due its once-a-minute last-seen touch (a write on the way
	// of a read) all through the run.
	start := time.Now()
	now := func() time.Time { return time.Now().Add(61 * time.Since(start).Truncate(time.Second)) }
	store := modelstest.Open(b, path, models.Options{Keyring: modelstest.Keyring(b), Now: now})
	az, err := authz.New(ctx, store, authz.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sessions := app.NewSessions(store, 24*time.Hour, 24*time.Hour) // the clock races ahead
	accounts := app.NewAccounts(store, az, app.WorkEmailOptions{})
	gin.SetMode(gin.ReleaseMode)
	handler, err := api.New(api.Options{Logger: slog.New(slog.DiscardHandler), Health: store,
		Auth: &api.Auth{Sessions: sessions, SignIn: app.NewSignIn(store, sessions, accounts, 0, nil), Tokens: app.NewTokens(store)}, Accounts: accounts})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()

	const clients = 16
	cookies := make([]string, clients)
	for i := range cookies {
		user, identity, _, err := store.SignIn(ctx, models.IdentityClaims{Issuer: "https://idp.example", Subject: fmt.Sprint("client-", i), Name: "Client"})
		if err != nil {
			b.Fatal(err)
		}
		token, _, err := sessions.New(ctx, &user.ID, &identity.ID, app.SessionData{})
		if err != nil {
			b.Fatal(err)
		}
		cookies[i] = "openlsc_session=" + token
	}

	doc := modelstest.LargeImport(100_000)
	var reads, writes benchStats
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { benchClient(srv.URL, cookies[i], stop, &reads, &writes) })
	}
	time.Sleep(time.Second) // the clients' steady state before the import
	importStart := time.Now()
	how, err := benchImport(ctx, path, doc)
	took := time.Since(importStart)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if err != nil {
		b.Fatalf("import (%s): %v", how, err)
	}
	fmt.Printf("\nSQLite: import of 100k agreements and 200k keys by %s took %v, 16 clients over HTTP meanwhile:\n  %s\n  %s\n",
		how, took.Round(time.Millisecond), reads.report("reads"), writes.report("writes"))
}

// benchImport loads doc into the SQLite file at path from outside the
// server: the openlsc binary named by OPENLSC_BENCH_BINARY, else a second
// store in this process.
func benchImport(ctx context.Context, path string, doc *models.ImportDocument) (string, error) {
	bin := os.Getenv("OPENLSC_BENCH_BINARY")
	if bin == "" {
		s, err := models.Open(ctx, path, models.Options{Keyring: mustKeyring()})
		if err != nil {
			return "a second store", err
		}
		defer s.Close()
		_, err = s.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "bench"}})
		return "a second store", err
	}
	file := filepath.Join(filepath.Dir(path), "import.json")
	f, err := os.Create(file)
	if err != nil {
		return "", err
	}
	if err := json.NewEncoder(f).Encode(doc); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, "import", file)
	cmd.Env = append(os.Environ(), "OPENLSC_DATABASE_URL="+path, "OPENLSC_SECRET_KEY="+modelstest.Secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "openlsc import", fmt.Errorf("%w\n%s", err, out)
	}
	return "openlsc import (another process)", nil
}

func mustKeyring() *models.Keyring {
	k, err := models.NewKeyring(modelstest.Secret)
	if err != nil {
		panic(err)
	}
	return k
}

// benchClient reads (GET /api/v1/me, GET /api/v1/tokens) and writes
// (create a token, then revoke it) until stop is closed: four reads to one
// write.
func benchClient(base, cookie string, stop <-chan struct{}, reads, writes *benchStats) {
	var made []string
	do := func(stats *benchStats, method, path, body string) []byte {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			stats.add(time.Since(start), "error")
			return nil
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status := fmt.Sprint(resp.StatusCode)
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
			status += "+Retry-After"
		}
		stats.add(time.Since(start), status)
		return out
	}
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		switch {
		case n%5 != 4 && n%2 == 0:
			do(reads, http.MethodGet, "/api/v1/me", "")
		case n%5 != 4:
			do(reads, http.MethodGet, "/api/v1/tokens", "")
		case len(made) > 0:
			do(writes, http.MethodDelete, "/api/v1/tokens/"+made[0], "")
			made = made[1:]
		default:
			var tok struct{ ID int64 }
			if err := json.Unmarshal(do(writes, http.MethodPost, "/api/v1/tokens", `{"name":"bench"}`), &tok); err == nil && tok.ID != 0 {
				made = append(made, fmt.Sprint(tok.ID))
			}
		}
	}
}
