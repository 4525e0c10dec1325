// Package authz decides who may do what on which licence. It is the only
// package that knows casbin: the rest of OpenLSC asks Can, lists what a
// user can see, and grants or revokes through an Authorizer.
//
// Stored grants (models.Grant), agreements' parent MBSAs and users'
// inheritance choices are turned into casbin g links (see model.conf); the
// p rules are fixed (policy.csv). A change is decided on what the database
// holds, under an authorization lock (models.Tx.LockAuthz), and written in
// the caller's transaction with its audit event and a change-journal entry;
// it is applied to this instance's memory after the commit, and every other
// instance (another replica, or a server beside an `openlsc import`) applies
// it when it reads the journal, within a second.
package authz

import (
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/rbac"
	"github.com/openlsc/openlsc/models"
)

//go:embed model.conf
var modelText string

//go:embed policy.csv
var policyText string

// Action is something a user may do on a licence.
type Action string

// The actions. Which permission allows which is in policy.csv.
const (
	ActView     Action = "view"      // agreement details, licence summary, verification form
	ActDownload Action = "download"  // download entitled software
	ActReadKeys Action = "read_keys" // see keys and activation counts, request activations
	ActManage   Action = "manage"    // manage users, decide requests, read the licence's audit log
	ActOperate  Action = "operate"   // the operators' desk; not licence-scoped
)

// maxDepth is the longest chain of links in the model: user → inherit node
// → licence role.
const maxDepth = 2

// Audit event kinds written by this package.
const (
	AuditGrant       = "grant"
	AuditRevoke      = "revoke"
	AuditInheritance = "inheritance"
)

// Authorizer answers authorization questions from memory and records
// changes in the database.
type Authorizer struct {
	store  *models.Store
	logger *slog.Logger
	// state is swapped whole by Reload, so checks never see a half-loaded policy.
	state atomic.Pointer[state]
	// mu serialises changes to memory (Reload and per-user syncs).
	mu sync.Mutex
	// origin marks this instance's journal entries, which it skips.
	origin   string
	follower *follower
	onApply  func(Change, error)
	// numbers maps licence numbers to agreement ids (see AgreementID).
	numbers sync.Map
}

// state is one loaded policy: the enforcer, its role graph, and the
// decisions made on it. mu is held shared while casbin enforces and
// exclusively while links change, because casbin keeps compiled matchers
// (with a memo of g() answers) that a link change must drop.
type state struct {
	mu        sync.RWMutex
	enf       *casbin.Enforcer
	rm        *graph
	decisions decisions
}

// changeLinks removes and adds g links through casbin, which updates the
// role manager and drops its compiled matchers, and forgets every decision.
// With no links it only forgets, which bounds casbin's memo too.
func (st *state) changeLinks(add, remove [][]string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	defer st.decisions.forget()
	if len(remove) > 0 {
		if err := st.enf.BuildIncrementalRoleLinks(model.PolicyRemove, "g", remove); err != nil {
			return err
		}
	}
	// Adding no links still drops the compiled matchers.
	return st.enf.BuildIncrementalRoleLinks(model.PolicyAdd, "g", add)
}

// Options configure New.
type Options struct {
	Logger *slog.Logger
	// ListenURL is the PostgreSQL URL of the store. When set, a commit by
	// another instance wakes this one at once through LISTEN/NOTIFY;
	// without it, changes are found by polling the journal.
	ListenURL string
	// PollInterval is how often the change journal is read; 250 ms when
	// zero. Negative: never (tests of a single instance).
	PollInterval time.Duration
	// OnApply, when set, is called after changes from other instances (or
	// a reload) are applied.
	OnApply func(c Change, err error)
}

// New loads every policy from the store and returns a ready Authorizer,
// which follows the store's change journal until Close, so that changes
// committed by other instances and processes reach it within a second.
func New(ctx context.Context, store *models.Store, opts Options) (*Authorizer, error) {
	a := &Authorizer{store: store, logger: opts.Logger, origin: newOrigin(), onApply: opts.OnApply}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if opts.ListenURL != "" && store.Dialect() != models.DialectPostgres {
		return nil, errNoListen
	}
	// Note the journal's end before loading: entries written meanwhile
	// are applied again, which is harmless.
	cursor, err := store.LastAuthzChange(ctx)
	if err != nil {
		return nil, fmt.Errorf("authz: read the change journal: %w", err)
	}
	if err := a.Reload(ctx); err != nil {
		return nil, err
	}
	if opts.PollInterval < 0 {
		return a, nil
	}
	f := &follower{a: a, poll: cmp.Or(opts.PollInterval, defaultPollInterval), cursor: cursor, lastRead: time.Now(), wake: make(chan struct{}, 1)}
	if opts.ListenURL != "" {
		f.listener, err = models.ListenAuthz(ctx, opts.ListenURL, "openlsc-authz-"+a.origin)
		if err != nil {
			return nil, fmt.Errorf("authz: %w", err)
		}
	}
	a.follower = f
	f.start(ctx)
	return a, nil
}

// Reload replaces the policy in memory with what the database holds.
func (a *Authorizer) Reload(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	grants, err := a.store.CountGrants(ctx)
	if err != nil {
		return fmt.Errorf("authz: load policy: %w", err)
	}
	g := newGraph(maxDepth)
	st, err := newState(nil, g)
	if err != nil {
		return err
	}
	// Nodes: roughly a user and a licence role per grant, plus slack.
	err = g.load(int(grants)+1024, func(add func(string, string)) error {
		return loadLinks(ctx, a.store, nil, add)
	})
	if err != nil {
		return fmt.Errorf("authz: load policy: %w", err)
	}
	a.state.Store(st)
	return nil
}

// newState builds an enforcer holding the fixed p rules, whose g function
// resolves links with rm (a *graph in production; benchmarks compare
// others), and adds links to rm. The g links live only in rm: keeping them
// in casbin's policy list as well would double the memory and load time.
func newState(links [][]string, rm rbac.RoleManager) (*state, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	enf, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	enf.EnableAutoSave(false)
	enf.EnableAutoBuildRoleLinks(false)
	if _, err := enf.SelfAddPolicies("p", "p", fixedRules()); err != nil {
		return nil, fmt.Errorf("authz: fixed rules: %w", err)
	}
	// Binding rm to the model's g clears it, so links come after.
	enf.SetRoleManager(rm)
	if err := enf.BuildRoleLinks(); err != nil {
		return nil, fmt.Errorf("authz: role links: %w", err)
	}
	st := &state{enf: enf}
	st.rm, _ = rm.(*graph)
	if st.rm != nil {
		err = st.rm.load(len(links), func(add func(string, string)) error {
			for _, l := range links {
				add(l[0], l[1])
			}
			return nil
		})
		return st, err
	}
	for _, l := range links {
		if err := rm.AddLink(l[0], l[1]); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func fixedRules() [][]string {
	var rules [][]string
	for _, line := range strings.Split(policyText, "\n") {
		f := strings.Split(line, ",")
		if len(f) != 3 || strings.TrimSpace(f[0]) != "p" {
			continue
		}
		rules = append(rules, []string{strings.TrimSpace(f[1]), strings.TrimSpace(f[2])})
	}
	return rules
}

// Node names in the casbin graph.
const inheritPrefix = "inherit@a:" // inheritNode's, before the MBSA's id

func userNode(id int64) string      { return "u:" + strconv.FormatInt(id, 10) }
func licenceNode(id int64) string   { return "a:" + strconv.FormatInt(id, 10) }
func inheritNode(mbsa int64) string { return inheritPrefix + strconv.FormatInt(mbsa, 10) }

// inheritedMBSA is the MBSA of an inheritNode name; false for other names.
func inheritedMBSA(name string) (int64, bool) {
	id, ok := strings.CutPrefix(name, inheritPrefix)
	mbsa, err := strconv.ParseInt(id, 10, 64)
	return mbsa, ok && err == nil
}
func roleNode(p models.Permission, licence int64) string {
	return string(p) + "@" + licenceNode(licence)
}

// parseRole splits a licence role node such as "administrator@a:34"; other
// nodes (users, inherit nodes, operator) are not roles.
func parseRole(node string) (models.Permission, int64, bool) {
	perm, lic, ok := strings.Cut(node, "@a:")
	if !ok || !models.Permission(perm).Valid() {
		return "", 0, false
	}
	id, err := strconv.ParseInt(lic, 10, 64)
	return models.Permission(perm), id, err == nil
}

// Can reports whether user may do action on licence. It answers from
// memory and never fails: any error denies. casbin decides; its answers
// are remembered until the policy next changes.
func (a *Authorizer) Can(user, licence int64, action Action) bool {
	st := a.state.Load()
	key := decisionKey{user: user, licence: licence, action: action}
	if ok, found := st.decisions.get(key); found {
		return ok
	}
	gen := st.decisions.generation()
	st.mu.RLock()
	ok, err := st.enf.Enforce(userNode(user), licenceNode(licence), string(action))
	st.mu.RUnlock()
	if err != nil {
		a.logger.Error("authz: enforce", slog.Any("error", err))
		return false
	}
	if full := st.decisions.put(key, ok, gen); full {
		// Start afresh, casbin's memo of g() answers included.
		if err := st.changeLinks(nil, nil); err != nil {
			a.logger.Error("authz: forget decisions", slog.Any("error", err))
		}
	}
	return ok
}

// IsOperator reports whether user holds the global operator role.
func (a *Authorizer) IsOperator(user int64) bool {
	ok, _ := a.state.Load().rm.HasLink(userNode(user), string(models.PermOperator))
	return ok
}

// LicenceAccess is what one user holds on one licence.
type LicenceAccess struct {
	AgreementID int64
	Permissions []models.Permission // strongest first
	Inherited   bool                // administration comes from an inheriting MBSA administrator
}

// Licences returns the licences user holds any permission on, by agreement id.
func (a *Authorizer) Licences(user int64) []LicenceAccess {
	type held struct {
		licence int64
		perm    models.Permission
		direct  bool
	}
	var all []held
	size := func(n int) { all = make([]held, 0, n) }
	a.state.Load().rm.visitRoles(userNode(user), size, func(perm models.Permission, licence int64, direct bool) {
		all = append(all, held{licence, perm, direct})
	})
	slices.SortFunc(all, func(x, y held) int { return cmp.Compare(x.licence, y.licence) })
	// One backing array for every licence's permissions: an inheriting
	// MBSA administrator lists thousands of licences.
	perms := make([]models.Permission, 0, len(all))
	var out []LicenceAccess
	if len(all) > 0 {
		// At most one entry per role held, and per licence id in the range.
		out = make([]LicenceAccess, 0, min(int64(len(all)), all[len(all)-1].licence-all[0].licence+1))
	}
	for i := 0; i < len(all); {
		la := LicenceAccess{AgreementID: all[i].licence}
		from := len(perms)
		directAdmin, admin := false, false
		for ; i < len(all) && all[i].licence == la.AgreementID; i++ {
			h := all[i]
			if h.perm == models.PermAdministrator {
				admin = true
				directAdmin = directAdmin || h.direct
			}
			if !contains(perms[from:], h.perm) {
				perms = append(perms, h.perm)
			}
		}
		la.Permissions = perms[from:len(perms):len(perms)]
		la.Inherited = admin && !directAdmin
		sortPerms(la.Permissions)
		out = append(out, la)
	}
	return out
}

func contains(ps []models.Permission, p models.Permission) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// sortPerms orders permissions strongest first, as models.Permissions does.
func sortPerms(ps []models.Permission) {
	slices.SortFunc(ps, func(x, y models.Permission) int {
		return cmp.Compare(slices.Index(models.Permissions, x), slices.Index(models.Permissions, y))
	})
}
