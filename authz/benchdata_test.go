package authz

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// benchConfig sizes a generated data set. Everything is drawn from a
// math/rand/v2 PCG seeded with seed, so a configuration always yields the
// same data.
type benchConfig struct {
	licences       int // agreement ids 1..licences
	users          int // user ids 1..users
	grants         int // stored grants, all distinct (user, licence, permission)
	bigEnrollments int // enrollments under MBSA 1 (ids 2..bigEnrollments+1)
	smallMBSAs     int // further MBSAs, with 3..7 enrollments each
	heavyUsers     int // users holding heavyGrants grants each
	heavyGrants    int
	inheritors     int // users who administer MBSA 1 and chose to inherit
	seed           uint64
}

// benchFull is the data set of the issue: 100k licences, 200k users, 1M grants.
var benchFull = benchConfig{
	licences:       100_000,
	users:          200_000,
	grants:         1_000_000,
	bigEnrollments: 10_000,
	smallMBSAs:     1_000,
	heavyUsers:     20,
	heavyGrants:    5_000,
	inheritors:     50,
	seed:           20261101,
}

// benchSmall has the same shape at 1/100 of the size, for TestBenchData.
var benchSmall = benchConfig{
	licences:       1_000,
	users:          2_000,
	grants:         10_000,
	bigEnrollments: 100,
	smallMBSAs:     10,
	heavyUsers:     2,
	heavyGrants:    100,
	inheritors:     5,
	seed:           7,
}

// benchPerms indexes the permissions of benchGrant.perm.
var benchPerms = [...]models.Permission{models.PermAdministrator, models.PermLicenseViewer, models.PermDownloadManager, models.PermKeyReader}

// benchPermWeights are the shares of the permissions, in percent.
var benchPermWeights = [...]int{25, 35, 20, 20}

// benchActs are the licence actions checks draw from.
var benchActs = [...]Action{ActView, ActDownload, ActReadKeys, ActManage}

// benchGrant is one stored grant, compactly.
type benchGrant struct {
	user, lic int32
	perm      uint8 // index into benchPerms
}

// Program of a generated licence.
const (
	benchStandAlone uint8 = iota
	benchMBSA
	benchEnrollment
)

// benchData is a generated data set, kept compact; links and database rows
// are built from it on demand.
type benchData struct {
	cfg        benchConfig
	grants     []benchGrant // grouped by user
	parentOf   []int32      // by licence id; 0: none
	program    []uint8      // by licence id
	inheritors []int32      // administer MBSA 1 and inherit it
	inherits   map[int32]bool
	heavy      []int32
	tenUser    int32 // holds grants on exactly 10 licences, inherits nothing
	held       map[uint64]uint8
	genTime    time.Duration
}

func benchKey(user, lic int64) uint64 { return uint64(user)<<32 | uint64(lic) }

// genBenchData generates the data set of cfg.
func genBenchData(cfg benchConfig) *benchData {
	start := time.Now()
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	d := &benchData{
		cfg:      cfg,
		parentOf: make([]int32, cfg.licences+1),
		program:  make([]uint8, cfg.licences+1),
		inherits: map[int32]bool{},
	}

	// Licences: MBSA 1 with its enrollments, then the small MBSAs, then
	// stand-alone agreements.
	d.program[1] = benchMBSA
	for id := 2; id <= cfg.bigEnrollments+1; id++ {
		d.program[id], d.parentOf[id] = benchEnrollment, 1
	}
	next := cfg.bigEnrollments + 2
	for range cfg.smallMBSAs {
		mbsa, n := next, 3+rng.IntN(5)
		if mbsa+n > cfg.licences {
			panic("benchdata: too few licences for the MBSAs")
		}
		d.program[mbsa] = benchMBSA
		for id := mbsa + 1; id <= mbsa+n; id++ {
			d.program[id], d.parentOf[id] = benchEnrollment, int32(mbsa)
		}
		next = mbsa + n + 1
	}

	// Users: one with exactly 10 licences, a few heavy ones, the MBSA 1
	// inheritors among the rest.
	perm := rng.Perm(cfg.users)
	d.tenUser = int32(perm[0] + 1)
	role := make(map[int32]int, cfg.heavyUsers+cfg.inheritors+1) // 1 heavy, 2 inheritor
	for _, p := range perm[1 : 1+cfg.heavyUsers] {
		d.heavy = append(d.heavy, int32(p+1))
		role[int32(p+1)] = 1
	}
	for _, p := range perm[1+cfg.heavyUsers : 1+cfg.heavyUsers+cfg.inheritors] {
		d.inheritors = append(d.inheritors, int32(p+1))
		d.inherits[int32(p+1)] = true
		role[int32(p+1)] = 2
	}

	// Grants per user: heavy users heavyGrants, the ten-licence user 10,
	// everyone else 1..10 (mostly 1..8), adjusted to the exact total.
	count := make([]int, cfg.users+1)
	total := 0
	for u := 1; u <= cfg.users; u++ {
		switch {
		case int32(u) == d.tenUser:
			count[u] = 10
		case role[int32(u)] == 1:
			count[u] = cfg.heavyGrants
		default:
			count[u] = 1 + rng.IntN(8)
		}
		total += count[u]
	}
	for total != cfg.grants {
		u := 1 + rng.IntN(cfg.users)
		if int32(u) == d.tenUser || role[int32(u)] == 1 {
			continue
		}
		if total < cfg.grants && count[u] < 10 {
			count[u]++
			total++
		} else if total > cfg.grants && count[u] > 1 {
			count[u]--
			total--
		}
	}

	pickPerm := func() uint8 {
		x := rng.IntN(100)
		for i, w := range benchPermWeights {
			if x < w {
				return uint8(i)
			}
			x -= w
		}
		return 0
	}
	d.grants = make([]benchGrant, 0, cfg.grants)
	d.held = make(map[uint64]uint8, cfg.grants)
	for u := 1; u <= cfg.users; u++ {
		user := int32(u)
		add := func(lic int32, p uint8) bool {
			k := benchKey(int64(user), int64(lic))
			if d.held[k]&(1<<p) != 0 {
				return false
			}
			d.held[k] |= 1 << p
			d.grants = append(d.grants, benchGrant{user, lic, p})
			return true
		}
		n := count[u]
		if user == d.tenUser {
			for got := 0; got < n; {
				if lic := int32(1 + rng.IntN(cfg.licences)); d.held[benchKey(int64(user), int64(lic))] == 0 && add(lic, pickPerm()) {
					got++
				}
			}
			continue
		}
		got, last := 0, int32(0)
		if role[user] == 2 {
			add(1, 0) // administrator of MBSA 1
			got, last = 1, 1
		}
		for got < n {
			lic := last
			if lic == 0 || rng.IntN(10) >= 3 { // 30%: another permission on the same licence
				lic = int32(1 + rng.IntN(cfg.licences))
			}
			if add(lic, pickPerm()) {
				got++
				last = lic
			}
		}
	}
	d.genTime = time.Since(start)
	return d
}

var (
	benchFullOnce sync.Once
	benchFullData *benchData
)

// fullBenchData generates the 1M-grant data set once per process.
func fullBenchData() *benchData {
	benchFullOnce.Do(func() { benchFullData = genBenchData(benchFull) })
	return benchFullData
}

// mbsaCount is the number of MBSAs.
func (d *benchData) mbsaCount() int {
	n := 0
	for _, p := range d.program {
		if p == benchMBSA {
			n++
		}
	}
	return n
}

// links builds the casbin g links of the data set with fresh strings, as
// loadLinks would: grants, parent links, inheritance links.
func (d *benchData) links() [][]string {
	out := make([][]string, 0, len(d.grants)+d.cfg.bigEnrollments+6*d.cfg.smallMBSAs+len(d.inheritors))
	for _, g := range d.grants {
		out = append(out, []string{userNode(int64(g.user)), roleNode(benchPerms[g.perm], int64(g.lic))})
	}
	for lic, p := range d.parentOf {
		if p != 0 {
			out = append(out, parentLink(int64(lic), int64(p)))
		}
	}
	for _, u := range d.inheritors {
		out = append(out, []string{userNode(int64(u)), inheritNode(1)})
	}
	return out
}

// allowed is the oracle: what the data set lets user do on lic, computed
// without casbin. direct leaves out inherited administration.
func (d *benchData) allowed(user, lic int64, act Action, direct bool) bool {
	held := d.held[benchKey(user, lic)]
	if !direct && lic >= 0 && lic < int64(len(d.parentOf)) && d.parentOf[lic] == 1 && d.inherits[int32(user)] {
		held |= 1 // inherited administrator
	}
	switch {
	case held&1 != 0:
		return act != ActOperate
	case act == ActView:
		return held&2 != 0
	case act == ActDownload:
		return held&4 != 0
	case act == ActReadKeys:
		return held&8 != 0
	}
	return false
}

// benchCheck is one authorization question.
type benchCheck struct {
	user, lic int64
	act       Action
	kind      int // checkHeld, checkRandom or checkInherited
}

// Kinds of checks.
const (
	checkHeld      = iota // the user holds a grant on the licence
	checkHeavy            // the same, drawn for a heavy user
	checkRandom           // a random user and licence
	checkInherited        // an inheriting administrator on an enrollment of MBSA 1
)

var checkKinds = [...]string{checkHeld: "held pair", checkHeavy: "held pair of a heavy user", checkRandom: "random pair", checkInherited: "inheriting admin"}

// checks draws n questions: 50% on a (user, licence) pair that holds a
// grant (a tenth of them, as of grants, for heavy users), 40% on a random pair, 10% an inheriting administrator on a random
// enrollment of MBSA 1; the action is random.
func (d *benchData) checks(n int, seed uint64) []benchCheck {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]benchCheck, n)
	for i := range out {
		c := &out[i]
		switch x := rng.IntN(10); {
		case x < 5:
			g := d.grants[rng.IntN(len(d.grants))]
			c.user, c.lic, c.kind = int64(g.user), int64(g.lic), checkHeld
			if slices.Contains(d.heavy, g.user) {
				c.kind = checkHeavy
			}
		case x < 9:
			c.user, c.lic, c.kind = int64(1+rng.IntN(d.cfg.users)), int64(1+rng.IntN(d.cfg.licences)), checkRandom
		default:
			c.user, c.kind = int64(d.inheritors[rng.IntN(len(d.inheritors))]), checkInherited
			c.lic = int64(2 + rng.IntN(d.cfg.bigEnrollments))
		}
		c.act = benchActs[rng.IntN(len(benchActs))]
	}
	return out
}

// fillDB writes the data set into an empty, migrated database in one
// transaction with multi-row INSERTs: one organization, the agreements,
// the users, the grants and the inheritance choices.
func (d *benchData) fillDB(ctx context.Context, s *models.Store) error {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	programs := [...]string{benchStandAlone: "open_value", benchMBSA: "mbsa", benchEnrollment: "enterprise"}
	return modelstest.Bulk(ctx, s, func(b *modelstest.BulkWriter) error {
		err := b.Insert("organizations", []string{"id", "number", "name", "created_at", "updated_at"}, 1, func(_ int, v []any) {
			v[0], v[1], v[2], v[3], v[4] = 1, "C1", "Bench customer", ts, ts
		})
		if err != nil {
			return err
		}
		err = b.Insert("agreements", []string{"id", "number", "program", "organization_id", "parent_id", "created_at", "updated_at"}, d.cfg.licences, func(i int, v []any) {
			id := int64(i + 1)
			v[0], v[1], v[2], v[3], v[5], v[6] = id, "A"+strconv.FormatInt(id, 10), programs[d.program[id]], 1, ts, ts
			if p := d.parentOf[id]; p != 0 {
				v[4] = int64(p)
			}
		})
		if err != nil {
			return err
		}
		err = b.Insert("users", []string{"id", "display_name", "language", "created_at", "updated_at"}, d.cfg.users, func(i int, v []any) {
			v[0], v[1], v[2], v[3], v[4] = i+1, "User "+strconv.Itoa(i+1), "en", ts, ts
		})
		if err != nil {
			return err
		}
		err = b.Insert("grants", []string{"user_id", "agreement_id", "permission", "source", "created_at"}, len(d.grants), func(i int, v []any) {
			g := d.grants[i]
			v[0], v[1], v[2], v[3], v[4] = int64(g.user), int64(g.lic), string(benchPerms[g.perm]), "direct", ts
		})
		if err != nil {
			return err
		}
		return b.Insert("inheritance_choices", []string{"user_id", "mbsa_id", "inherit", "chosen_at"}, len(d.inheritors), func(i int, v []any) {
			v[0], v[1], v[2], v[3] = int64(d.inheritors[i]), 1, true, ts
		})
	})
}

// TestBenchData checks the generator's promises on the small configuration
// and that the project's state answers like the oracle on its links.
func TestBenchData(t *testing.T) {
	d := genBenchData(benchSmall)
	cfg := d.cfg
	if len(d.grants) != cfg.grants {
		t.Fatalf("%d grants, want %d", len(d.grants), cfg.grants)
	}
	if len(d.held) == 0 || len(d.inheritors) != cfg.inheritors || len(d.heavy) != cfg.heavyUsers {
		t.Fatalf("held %d, inheritors %d, heavy %d", len(d.held), len(d.inheritors), len(d.heavy))
	}
	if n := d.mbsaCount(); n != 1+cfg.smallMBSAs {
		t.Errorf("%d MBSAs, want %d", n, 1+cfg.smallMBSAs)
	}
	perUser := map[int32]int{}
	for _, g := range d.grants {
		perUser[g.user]++
		if g.lic < 1 || int(g.lic) > cfg.licences || g.user < 1 || int(g.user) > cfg.users {
			t.Fatalf("grant out of range: %+v", g)
		}
	}
	if again := genBenchData(benchSmall); fmt.Sprint(again.grants[:50]) != fmt.Sprint(d.grants[:50]) || again.tenUser != d.tenUser {
		t.Error("the generator is not deterministic")
	}

	st, err := newState(d.links(), newGraph(maxDepth))
	if err != nil {
		t.Fatal(err)
	}
	a := &Authorizer{}
	a.state.Store(st)
	if got := a.Licences(int64(d.tenUser)); len(got) != 10 {
		t.Errorf("the ten-licence user has %d licences", len(got))
	}
	inh := a.Licences(int64(d.inheritors[0]))
	if len(inh) < cfg.bigEnrollments+1 {
		t.Errorf("an inheritor of MBSA 1 has %d licences, want ≥ %d", len(inh), cfg.bigEnrollments+1)
	}
	for _, h := range d.heavy {
		if perUser[h] != cfg.heavyGrants {
			t.Errorf("heavy user %d has %d grants", h, perUser[h])
		}
	}
	for _, c := range d.checks(20_000, 3) {
		if got, want := a.Can(c.user, c.lic, c.act), d.allowed(c.user, c.lic, c.act, false); got != want {
			t.Fatalf("Can(%d, %d, %s) = %v, oracle says %v", c.user, c.lic, c.act, got, want)
		}
	}
}

// TestBenchDataFillsTheDatabase loads the small data set the way the report
// loads the large one and checks that authorization reads it back whole.
func TestBenchDataFillsTheDatabase(t *testing.T) {
	d := genBenchData(benchSmall)
	s := modelstest.New(t)
	ctx := context.Background()
	if err := d.fillDB(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := modelstest.Analyze(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n := modelstest.Count(t, s, models.Grant{}); n != int64(len(d.grants)) {
		t.Errorf("%d grants in the database, want %d", n, len(d.grants))
	}
	if n := modelstest.Count(t, s, models.InheritanceChoice{}); n != int64(len(d.inheritors)) {
		t.Errorf("%d inheritance choices in the database, want %d", n, len(d.inheritors))
	}
	a, err := New(ctx, s, Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if lics := a.Licences(int64(d.tenUser)); len(lics) == 0 {
		t.Errorf("the ten-licence user u:%d sees no licences", d.tenUser)
	}
}
