package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// benchHTTPSize sizes the data set of TestBenchHTTP; each field is read
// from the environment variable named in its comment.
type benchHTTPSize struct {
	agreements  int           // OPENLSC_BENCH_AGREEMENTS: all agreements, the MBSA and its enrollments included
	enrollments int           // OPENLSC_BENCH_ENROLLMENTS: enrollments under the one large MBSA
	users       int           // OPENLSC_BENCH_USERS: users with a confirmed work email
	grants      int           // OPENLSC_BENCH_GRANTS: direct grants of those users on random agreements
	products    int           // OPENLSC_BENCH_PRODUCTS: products, each with 5 versions of 2 files
	bigKeys     int           // OPENLSC_BENCH_BIG_KEYS: keys of the big licence (others have 2)
	bigUsers    int           // OPENLSC_BENCH_BIG_USERS: users granted on the big licence
	heavy       int           // OPENLSC_BENCH_HEAVY: licences the heavy downloader manages
	duration    time.Duration // OPENLSC_BENCH_DURATION: measuring time per route and connection count
	conns       []int         // OPENLSC_BENCH_CONNS: connection counts, comma-separated
	only        string        // OPENLSC_BENCH_ONLY: measure only routes whose name contains this
}

func benchHTTPSizeFromEnv(t *testing.T) benchHTTPSize {
	s := benchHTTPSize{agreements: 20_000, enrollments: 5_000, users: 2_000, grants: 10_000, products: 20,
		bigKeys: 2_000, bigUsers: 300, heavy: 1_000, duration: 2 * time.Second, conns: []int{1, 8, 64}}
	for name, p := range map[string]*int{
		"OPENLSC_BENCH_AGREEMENTS": &s.agreements, "OPENLSC_BENCH_ENROLLMENTS": &s.enrollments,
		"OPENLSC_BENCH_USERS": &s.users, "OPENLSC_BENCH_GRANTS": &s.grants, "OPENLSC_BENCH_PRODUCTS": &s.products,
		"OPENLSC_BENCH_BIG_KEYS": &s.bigKeys, "OPENLSC_BENCH_BIG_USERS": &s.bigUsers, "OPENLSC_BENCH_HEAVY": &s.heavy,
	} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				t.Fatalf("%s=%q: give a whole number", name, v)
			}
			*p = n
		}
	}
	if v := os.Getenv("OPENLSC_BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("OPENLSC_BENCH_DURATION=%q: give a duration such as 2s", v)
		}
		s.duration = d
	}
	if v := os.Getenv("OPENLSC_BENCH_CONNS"); v != "" {
		s.conns = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				t.Fatalf("OPENLSC_BENCH_CONNS=%q: give connection counts such as 1,8,64", v)
			}
			s.conns = append(s.conns, n)
		}
	}
	s.only = os.Getenv("OPENLSC_BENCH_ONLY")
	if s.enrollments+2 > s.agreements || s.products < 1 || s.heavy > s.agreements-s.enrollments-1 {
		t.Fatalf("inconsistent size: %+v", s)
	}
	return s
}

// TestBenchHTTP is `make bench-http`: it generates a data set (agreements
// with one large MBSA, users, grants, products, keys), starts the real
// server on it, signs users in with API tokens and session cookies, and
// measures requests per second and p50/p99 latency of the main routes at
// each connection count, next to a bare gin handler in the same run: the
// "bare r/s" of a route, and its ratio, come from the bare handler
// measured in turns with that route (pairedMeasure).
// Skipped unless OPENLSC_BENCH_HTTP is set; PostgreSQL when
// OPENLSC_BENCH_DATABASE_URL is a postgres:// URL. cpu/req is the
// process's CPU time (server and load generator) per request, steadier
// than latency on a shared machine. With
// OPENLSC_BENCH_PPROF=127.0.0.1:port the server serves net/http/pprof
// there (OPENLSC_PPROF_ADDR) while the benchmark runs.
func TestBenchHTTP(t *testing.T) {
	if os.Getenv("OPENLSC_BENCH_HTTP") == "" {
		t.Skip("set OPENLSC_BENCH_HTTP=1 (make bench-http)")
	}
	size := benchHTTPSizeFromEnv(t)
	db := benchDatabase(t)
	gin.SetMode(gin.ReleaseMode)
	m, base := startBenchServer(t, db)
	start := time.Now()
	ds := generateBenchData(t, m, size)
	fmt.Printf("data set: %d agreements (MBSA with %d enrollments), %d users, %d grants, %d products, big licence %s with %d keys and %d users; generated in %s on %s\n",
		size.agreements, size.enrollments, size.users, size.grants, size.products, ds.big, size.bigKeys, size.bigUsers,
		time.Since(start).Round(time.Millisecond), m.Store.Dialect())
	// The ratios depend on the machine as well as on the code: name it.
	fmt.Printf("machine: %s, GOMAXPROCS %d, %s\n", cpuModel(), runtime.GOMAXPROCS(0), runtime.Version())
	bare := startBareGin(t)

	routes := ds.routes()
	for _, r := range routes {
		if code := benchGet(http.DefaultClient, base, r); code != http.StatusOK {
			t.Fatalf("%s: GET %s answered %d", r.name, r.path, code)
		}
	}
	fmt.Printf("\n%-34s %5s %9s %9s %9s %9s %9s %7s\n", "route", "conns", "req/s", "p50", "p99", "cpu/req", "bare r/s", "ratio")
	for _, c := range size.conns {
		b := settledMeasure(bare, benchRoute{name: "bare gin", path: "/"}, c, size.duration)
		fmt.Printf("%-34s %5d %9.0f %9s %9s %9s\n", "bare gin handler", c, b.rps, b.p50, b.p99, b.cpu)
		for _, r := range routes {
			if size.only != "" && !strings.Contains(r.name, size.only) {
				continue
			}
			res, floor := pairedMeasure(bare, base, r, c, size.duration)
			fmt.Printf("%-34s %5d %9.1f %9s %9s %9s %9.0f %6.3fx\n", r.name, c, res.rps, res.p50, res.p99, res.cpu, floor.rps, res.rps/floor.rps)
			if res.failed > 0 {
				t.Errorf("%s at %d connections: %d requests failed", r.name, c, res.failed)
			}
		}
	}
}

// cpuModel is the processor's model name as Linux gives it, or GOARCH.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(b)) {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimLeft(name, " \t:"))
		}
	}
	return runtime.GOARCH
}

// startBenchServer runs the real server (production mode: a configured
// OpenID provider that is never asked, an SMTP server never reached) on db.
func startBenchServer(t *testing.T, db string) (*Main, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	env := map[string]string{
		"OPENLSC_DATABASE_URL": db, "OPENLSC_SECRET_KEY": modelstest.Secret,
		"OPENLSC_STORAGE_DIR": filepath.Join(t.TempDir(), "files"),
		"OPENLSC_ADDR":        addr, "OPENLSC_BASE_URL": "http://" + addr, "OPENLSC_LOG_LEVEL": "error",
		"OPENLSC_OIDC_ISSUER": "http://127.0.0.1:1/unused", "OPENLSC_OIDC_CLIENT_ID": "bench", "OPENLSC_OIDC_CLIENT_SECRET": "bench",
		"OPENLSC_SMTP_URL": "smtp://127.0.0.1:1?tls=none", "OPENLSC_MAIL_FROM": "OpenLSC <bench@openlsc.example>",
		"OPENLSC_PPROF_ADDR": os.Getenv("OPENLSC_BENCH_PPROF"),
	}
	cfg, err := serveConfig(runEnv{getenv: envOf(env), stderr: io.Discard}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Open(ctx, cfg, io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = m.Close()
	})
	return m, "http://" + m.Addr().String()
}

// startBareGin serves a handler that answers a small JSON object, with
// gin's recovery middleware only: the floor every route is compared to.
func startBareGin(t *testing.T) string {
	e := gin.New()
	e.Use(gin.Recovery())
	e.GET("/", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// benchData is what generateBenchData made: who signs in how, and the
// licences the routes name.
type benchData struct {
	admin, heavy, plain *benchUser
	big, small          string // licence numbers: an enrollment with many keys and users; a small licence
}

type benchUser struct {
	id            int64
	token, cookie string
}

// benchRoute is one measured request.
type benchRoute struct {
	name, path string
	user       *benchUser
	page       bool // signed in by session cookie rather than bearer token
}

func (ds *benchData) routes() []benchRoute {
	return []benchRoute{
		{name: "GET /api/v1/me", path: "/api/v1/me", user: ds.plain},
		{name: "GET keys (small licence)", path: "/api/v1/licences/" + ds.small + "/keys", user: ds.plain},
		{name: "GET /api/v1/licences (MBSA admin)", path: "/api/v1/licences", user: ds.admin},
		{name: "GET /api/v1/licences?all=true (MBSA admin)", path: "/api/v1/licences?all=true", user: ds.admin},
		{name: "page /licences (MBSA admin)", path: "/licences", user: ds.admin, page: true},
		{name: "GET users (big licence)", path: "/api/v1/licences/" + ds.big + "/users", user: ds.admin},
		{name: "GET keys (big licence)", path: "/api/v1/licences/" + ds.big + "/keys", user: ds.admin},
		{name: "GET audit (big licence)", path: "/api/v1/audit?licence=" + ds.big, user: ds.admin},
		{name: "page users (big licence)", path: "/licences/" + ds.big + "/users", user: ds.admin, page: true},
		{name: "page keys (big licence)", path: "/licences/" + ds.big + "/keys", user: ds.admin, page: true},
		{name: "GET /api/v1/downloads (heavy)", path: "/api/v1/downloads", user: ds.heavy},
		{name: "page /downloads (heavy)", path: "/downloads", user: ds.heavy, page: true},
	}
}

// generateBenchData imports the agreements, products and keys, then makes
// the users, their grants, API tokens and sessions on the running server's
// store and authorizer.
func generateBenchData(t *testing.T, m *Main, size benchHTTPSize) *benchData {
	t.Helper()
	ctx := context.Background()
	doc, numbers := benchDocument(size)
	if _, err := m.Store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "bench"}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Authz.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(numbers))
	for i, n := range numbers {
		id, err := m.Store.AgreementID(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	g := benchGen{t: t, m: m, sessions: app.NewSessions(m.Store, time.Hour, 12*time.Hour), tokens: app.NewTokens(m.Store)}
	mbsa, big, small := ids[0], ids[1], ids[size.enrollments+1]
	ds := &benchData{big: numbers[1], small: numbers[size.enrollments+1]}
	rng := rand.New(rand.NewPCG(20261130, 14))

	ds.admin = g.user("admin", true)
	g.grant(ds.admin.id, []int64{mbsa}, models.PermAdministrator)
	g.inherit(ds.admin.id, mbsa)
	ds.plain = g.user("plain", true)
	g.grant(ds.plain.id, []int64{small, ids[size.enrollments+2]}, models.PermKeyReader)
	ds.heavy = g.user("heavy", true)
	standAlone := ids[size.enrollments+1:]
	g.grant(ds.heavy.id, pick(rng, standAlone, size.heavy), models.PermDownloadManager)

	perms := []models.Permission{models.PermLicenseViewer, models.PermDownloadManager, models.PermKeyReader, models.PermAdministrator}
	per := max(size.grants/max(size.users, 1), 1)
	for i := range size.users {
		u := g.user("u"+strconv.Itoa(i), false)
		g.grant(u.id, pick(rng, ids, per), perms[i%len(perms)])
		if i < size.bigUsers {
			g.grant(u.id, []int64{big}, models.PermLicenseViewer)
		}
	}
	return ds
}

// benchDocument is the import of the data set and the agreement numbers in
// order: the MBSA, its enrollments (the first is the big licence), then
// stand-alone agreements.
func benchDocument(size benchHTTPSize) (*models.ImportDocument, []string) {
	doc := &models.ImportDocument{}
	for p := range size.products {
		prod := models.ImportProduct{ID: fmt.Sprintf("prod-%03d", p), Name: fmt.Sprintf("Product %d", p)}
		for v := range 5 {
			ver := models.ImportVersion{Version: fmt.Sprintf("%d.0", 10+v), Edition: "Enterprise", Released: fmt.Sprintf("202%d-01-15", v)}
			for _, lang := range []string{"en", "ja"} {
				ver.Files = append(ver.Files, models.ImportFile{Name: fmt.Sprintf("p%d-v%d-%s.iso", p, v, lang), Language: lang,
					Size: 1 << 30, SHA256: strings.Repeat("ab", 32), Path: fmt.Sprintf("p%d/v%d/%s.iso", p, v, lang)})
			}
			prod.Versions = append(prod.Versions, ver)
		}
		doc.Products = append(doc.Products, prod)
	}
	orgs := size.agreements/20 + 1
	for o := range orgs {
		doc.Organizations = append(doc.Organizations, models.ImportOrganization{Number: fmt.Sprintf("C%06d", o), Name: fmt.Sprintf("Customer %d", o)})
	}
	numbers := make([]string, 0, size.agreements)
	limit, used, edition := int64(500), int64(120), "Enterprise"
	for i := range size.agreements {
		a := models.ImportAgreement{Organization: fmt.Sprintf("C%06d", i%orgs), Starts: "2026-01-01", Ends: "2028-12-31"}
		switch {
		case i == 0:
			a.Program, a.Number, a.Organization = "mbsa", "M000000", "C000000"
		case i <= size.enrollments:
			a.Program, a.Number, a.Parent, a.Organization = "enterprise", fmt.Sprintf("E%06d", i), "M000000", "C000000"
		default:
			a.Program, a.Number = "open_value", fmt.Sprintf("V%06d", i)
		}
		numbers = append(numbers, a.Number)
		doc.Agreements = append(doc.Agreements, a)
		prod := i % size.products
		doc.Entitlements = append(doc.Entitlements, models.ImportEntitlement{Agreement: a.Number, Product: fmt.Sprintf("prod-%03d", prod), Version: fmt.Sprintf("%d.0", 10+(i/size.products)%5), Edition: &edition})
		keys := 2
		if i == 1 {
			keys = size.bigKeys
		}
		for k := range keys {
			doc.Keys = append(doc.Keys, models.ImportKey{Agreement: a.Number, Product: fmt.Sprintf("prod-%03d", prod), Type: "mak",
				Key: fmt.Sprintf("K%06d-%05d-AAAAA-BBBBB-CCCCC", i, k), ActivationLimit: &limit, ActivationsUsed: &used})
		}
	}
	return doc, numbers
}

// pick draws n distinct elements of ids.
func pick(rng *rand.Rand, ids []int64, n int) []int64 {
	n = min(n, len(ids))
	out := make([]int64, 0, n)
	seen := make(map[int]bool, n)
	for len(out) < n {
		i := rng.IntN(len(ids))
		if !seen[i] {
			seen[i] = true
			out = append(out, ids[i])
		}
	}
	return out
}

// benchGen makes users, grants, tokens and sessions through the server's
// own store, authorizer and use cases.
type benchGen struct {
	t        *testing.T
	m        *Main
	sessions *app.Sessions
	tokens   *app.Tokens
}

// user signs a new user in, confirms their work email and, when signIn,
// gives them an API token and a session.
func (g benchGen) user(name string, signIn bool) *benchUser {
	ctx := context.Background()
	email := name + "@bench.example"
	u, identity, _, err := g.m.Store.SignIn(ctx, models.IdentityClaims{Issuer: "http://127.0.0.1:1/unused", Subject: name, Email: email, Name: name})
	if err != nil {
		g.t.Fatal(err)
	}
	if err := g.m.Store.InTx(ctx, func(tx *models.Tx) error { return tx.ConfirmWorkEmail(u.ID, email) }); err != nil {
		g.t.Fatal(err)
	}
	bu := &benchUser{id: u.ID}
	if signIn {
		tok, err := g.tokens.Create(ctx, u.ID, "bench", 24*time.Hour)
		if err != nil {
			g.t.Fatal(err)
		}
		cookie, _, err := g.sessions.New(ctx, &u.ID, &identity.ID, app.SessionData{})
		if err != nil {
			g.t.Fatal(err)
		}
		bu.token, bu.cookie = tok.Token, cookie
	}
	return bu
}

// grant gives user perm on each licence, in transactions of 500 grants.
func (g benchGen) grant(user int64, licences []int64, perm models.Permission) {
	for chunk := range slices.Chunk(licences, 500) {
		err := g.m.Store.InTx(context.Background(), func(tx *models.Tx) error {
			for _, l := range chunk {
				if err := g.m.Authz.Grant(tx, models.Actor{Label: "bench"}, user, &l, perm, models.SourceDirect); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			g.t.Fatal(err)
		}
	}
}

// inherit makes user, an administrator of mbsa, administer its enrollments.
func (g benchGen) inherit(user, mbsa int64) {
	err := g.m.Store.InTx(context.Background(), func(tx *models.Tx) error {
		return g.m.Authz.SetInheritance(tx, models.Actor{UserID: &user}, user, mbsa, true)
	})
	if err != nil {
		g.t.Fatal(err)
	}
}

// benchGet sends r once with c and returns the status.
func benchGet(c *http.Client, base string, r benchRoute) int {
	req, _ := http.NewRequest(http.MethodGet, base+r.path, nil)
	if r.user != nil {
		if r.page {
			req.AddCookie(&http.Cookie{Name: "openlsc_session", Value: r.user.cookie})
			req.Header.Set("Accept", "text/html")
		} else {
			req.Header.Set("Authorization", "Bearer "+r.user.token)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// benchResult is one measurement.
type benchResult struct {
	rps      float64
	p50, p99 time.Duration
	cpu      time.Duration // CPU time of the process (server and client) per request
	failed   int
}

// settledMeasure is measure after a collection of what came before (the
// data set's generation, the previous route) and a warm-up of a tenth of
// d at most 300 ms, not counted: each route is measured in the server's
// steady state rather than paying for the garbage of the one before.
func settledMeasure(base string, r benchRoute, conns int, d time.Duration) benchResult {
	runtime.GC()
	measure(base, r, conns, min(d/10, 300*time.Millisecond))
	return measure(base, r, conns, d)
}

// benchTurns is how many turns pairedMeasure takes.
const benchTurns = 5

// pairedMeasure measures route r on base and the bare handler in turns,
// benchTurns slices of d/benchTurns each, the first of each pair changing
// every turn, after the collection and warm-up of settledMeasure for both.
// On a shared machine the bare handler alone moves by a third from one
// run to the next: measured minutes apart, one route's ratio to it said
// more of the moment than of the route; measured in the same moments, both
// drift together.
func pairedMeasure(bare, base string, r benchRoute, conns int, d time.Duration) (route, floor benchResult) {
	bareRoute := benchRoute{name: "bare gin", path: "/"}
	runtime.GC()
	warm := min(d/10, 300*time.Millisecond)
	measureSample(bare, bareRoute, conns, warm)
	measureSample(base, r, conns, warm)
	var rs, fs benchSample
	for turn := range benchTurns {
		routeFirst := turn%2 == 0
		for i := range 2 {
			if (i == 0) == routeFirst {
				rs.add(measureSample(base, r, conns, d/benchTurns))
			} else {
				fs.add(measureSample(bare, bareRoute, conns, d/benchTurns))
			}
		}
	}
	return rs.result(), fs.result()
}

// benchSample is what measureSample saw.
type benchSample struct {
	lat          []time.Duration
	elapsed, cpu time.Duration
	failed       int
}

func (s *benchSample) add(o benchSample) {
	s.lat, s.elapsed, s.cpu, s.failed = append(s.lat, o.lat...), s.elapsed+o.elapsed, s.cpu+o.cpu, s.failed+o.failed
}

// result is the throughput, latencies and CPU per request of s.
func (s *benchSample) result() benchResult {
	lat := slices.Sorted(slices.Values(s.lat))
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(int(float64(len(lat))*p), len(lat)-1)].Round(10 * time.Microsecond)
	}
	res := benchResult{rps: float64(len(lat)) / s.elapsed.Seconds(), p50: q(0.50), p99: q(0.99), failed: s.failed}
	if len(lat) > 0 {
		res.cpu = (s.cpu / time.Duration(len(lat))).Round(time.Microsecond)
	}
	return res
}

// measure sends r from conns connections in a loop for d, then waits for
// the requests in flight, and reports the throughput and latencies.
func measure(base string, r benchRoute, conns int, d time.Duration) benchResult {
	s := measureSample(base, r, conns, d)
	return s.result()
}

// measureSample is measure's sample.
func measureSample(base string, r benchRoute, conns int, d time.Duration) benchSample {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var (
		mu sync.Mutex
		s  benchSample
		wg sync.WaitGroup
	)
	start, cpu0 := time.Now(), modelstest.ProcessCPU()
	deadline := start.Add(d)
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if benchGet(c, base, r) != http.StatusOK {
					bad++
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			s.lat, s.failed = append(s.lat, mine...), s.failed+bad
			mu.Unlock()
		})
	}
	wg.Wait()
	s.elapsed, s.cpu = time.Since(start), modelstest.ProcessCPU()-cpu0
	return s
}

// benchDatabase is OPENLSC_BENCH_DATABASE_URL, or a new SQLite file.
func benchDatabase(t *testing.T) string {
	if db := os.Getenv("OPENLSC_BENCH_DATABASE_URL"); db != "" {
		return db
	}
	return filepath.Join(t.TempDir(), "bench.db")
}
