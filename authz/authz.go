// Package authz decides who may do what on which licence. It is the only
// package that knows casbin: the rest of OpenLSC asks Can, lists what a
// user can see, and grants or revokes through an Authorizer.
//
// Stored grants (models.Grant), agreements' parent MBSAs and users'
// inheritance choices are turned into casbin g links (see model.conf); the
// p rules are fixed (policy.csv). A change is written in the caller's
// transaction, with its audit event, and applied to memory only after the
// transaction commits.
package authz

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	// origin marks this instance's notifications, which it skips.
	origin   string
	listener *listener
	onApply  func(Change, error)
}

// state is one loaded policy: the enforcer and its role graph.
type state struct {
	enf *casbin.SyncedEnforcer
	rm  *graph
}

// Options configure New.
type Options struct {
	Logger *slog.Logger
	// ListenURL is the PostgreSQL URL of the store. When set, the
	// Authorizer listens for changes committed by other instances and
	// applies them within moments; Close stops it.
	ListenURL string
	// OnApply, when set, is called after each change from another
	// instance (or reload after reconnecting) is applied.
	OnApply func(c Change, err error)
}

// New loads every policy from the store and returns a ready Authorizer.
func New(ctx context.Context, store *models.Store, opts Options) (*Authorizer, error) {
	a := &Authorizer{store: store, logger: opts.Logger, origin: newOrigin(), onApply: opts.OnApply}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if opts.ListenURL != "" {
		if store.Dialect() != models.DialectPostgres {
			return nil, errNoListen
		}
		// Listen before loading, so that no change falls between the two.
		a.listener = &listener{a: a, url: opts.ListenURL, origin: a.origin, done: make(chan struct{})}
		if err := a.listener.connect(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.Reload(ctx); err != nil {
		if a.listener != nil {
			_ = a.listener.conn.Close(ctx)
		}
		return nil, err
	}
	if a.listener != nil {
		lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		a.listener.cancel = cancel
		go a.listener.run(lctx)
	}
	return a, nil
}

// Reload replaces the policy in memory with what the database holds.
func (a *Authorizer) Reload(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	lines, err := loadLinks(a.store.DB().WithContext(ctx), nil)
	if err != nil {
		return fmt.Errorf("authz: load policy: %w", err)
	}
	st, err := newState(lines, newGraph(maxDepth))
	if err != nil {
		return err
	}
	a.state.Store(st)
	return nil
}

// newState builds an enforcer holding the fixed p rules and the given
// links, resolved by rm (a *graph in production; benchmarks compare others).
func newState(links [][]string, rm rbac.RoleManager) (*state, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	enf, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	enf.EnableAutoSave(false)
	enf.EnableAutoBuildRoleLinks(false)
	st := &state{enf: enf}
	st.rm, _ = rm.(*graph)
	enf.SetRoleManager(rm)
	if _, err := enf.SelfAddPolicies("p", "p", fixedRules()); err != nil {
		return nil, fmt.Errorf("authz: fixed rules: %w", err)
	}
	if len(links) > 0 {
		// Adding g policies builds their role links incrementally.
		if _, err := enf.SelfAddPolicies("g", "g", links); err != nil {
			return nil, fmt.Errorf("authz: links: %w", err)
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
func userNode(id int64) string      { return "u:" + strconv.FormatInt(id, 10) }
func licenceNode(id int64) string   { return "a:" + strconv.FormatInt(id, 10) }
func inheritNode(mbsa int64) string { return "inherit@" + licenceNode(mbsa) }
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
// memory and never fails: any error denies.
func (a *Authorizer) Can(user, licence int64, action Action) bool {
	ok, err := a.state.Load().enf.Enforce(userNode(user), licenceNode(licence), string(action))
	if err != nil {
		a.logger.Error("authz: enforce", slog.Any("error", err))
		return false
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
	rm := a.state.Load().rm
	byID := map[int64]*LicenceAccess{}
	rm.visit(userNode(user), func(node string) {
		perm, id, ok := parseRole(node)
		if !ok {
			return
		}
		la := byID[id]
		if la == nil {
			la = &LicenceAccess{AgreementID: id}
			byID[id] = la
		}
		for _, p := range la.Permissions {
			if p == perm {
				return
			}
		}
		la.Permissions = append(la.Permissions, perm)
	})
	direct, _ := rm.GetRoles(userNode(user))
	directSet := make(map[string]bool, len(direct))
	for _, d := range direct {
		directSet[d] = true
	}
	out := make([]LicenceAccess, 0, len(byID))
	for id, la := range byID {
		la.Inherited = !directSet[roleNode(models.PermAdministrator, id)] && contains(la.Permissions, models.PermAdministrator)
		sortPerms(la.Permissions)
		out = append(out, *la)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AgreementID < out[j].AgreementID })
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

func sortPerms(ps []models.Permission) {
	rank := func(p models.Permission) int {
		for i, q := range models.Permissions {
			if p == q {
				return i
			}
		}
		return len(models.Permissions)
	}
	sort.Slice(ps, func(i, j int) bool { return rank(ps[i]) < rank(ps[j]) })
}
