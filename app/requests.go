package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openlsc/openlsc/authz"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// Audit kinds of access requests.
const (
	AuditRequestCreated   = "access_request.created"
	AuditRequestFailed    = "access_request.failed"
	AuditRequestApproved  = "access_request.approved"
	AuditRequestDenied    = "access_request.denied"
	AuditRequestCancelled = "access_request.cancelled"
	AuditRequestExpired   = "access_request.expired"
)

// Why an access request failed; recorded for operators, never shown to
// the requester.
const (
	FailureUnknownLicence   = "unknown licence"
	FailureWrongProgram     = "wrong program"
	FailureWrongAuthNumber  = "wrong authorization number"
	FailureNoAdministrator  = "licence has no administrator"
	maxRequestCommentLength = 500
)

// ErrRequestFailed is the one answer to every failed access request,
// whatever the cause, so that no answer tells licences apart.
var ErrRequestFailed = models.New(models.CodeInvalid, "err.request.failed",
	"Access request failed. Check the program and the License ID (for Open License, the license number and the authorization number). If they are right, contact support: we cannot tell you more here.")

// Errors of access request decisions.
var (
	ErrRequestDecided = models.New(models.CodeConflict, "err.request.decided", "This request has been decided, cancelled or has expired already.")
	ErrVerifyFirst    = models.New(models.CodeForbidden, "err.verify_first", "Confirm your work email first.")
)

// RequestsOptions configure the access request use cases.
type RequestsOptions struct {
	BaseURL     string
	TTL         time.Duration // pending requests expire after this long (30 days)
	MaxFailures int           // failed requests allowed per LockWindow, per user and per client address (5)
	LockWindow  time.Duration // (1 hour)
	Kick        func()        // wakes the mail worker after a commit; may be nil
}

// requestsAuthz is what access requests need of authorization.
type requestsAuthz interface {
	Can(user, licence int64, action authz.Action) bool
	Users(ctx context.Context, licence int64) ([]authz.UserGrant, error)
	Licences(user int64) []authz.LicenceAccess
	Grant(tx *models.Tx, actor models.Actor, user int64, licence *int64, perm models.Permission, source models.GrantSource) error
}

// Requests are the access request use cases.
type Requests struct {
	store *models.Store
	authz requestsAuthz
	opts  RequestsOptions
}

// NewRequests returns the access request use cases.
func NewRequests(store *models.Store, az requestsAuthz, opts RequestsOptions) *Requests {
	if opts.TTL == 0 {
		opts.TTL = 30 * 24 * time.Hour
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = 5
	}
	if opts.LockWindow == 0 {
		opts.LockWindow = time.Hour
	}
	return &Requests{store: store, authz: az, opts: opts}
}

// RequestInput is a request for permissions on a licence.
type RequestInput struct {
	Program             models.Program      `json:"program"`
	LicenseNumber       string              `json:"license_number"`
	AuthorizationNumber string              `json:"authorization_number,omitempty"`
	Permissions         []models.Permission `json:"permissions"`
	Comment             string              `json:"comment,omitempty"`
	// ClientAddress is where the request came from (set by the HTTP
	// layer, never by the client's JSON): failures are counted per
	// address as well as per user.
	ClientAddress string `json:"-"`
}

// RequestView is an access request as its requester or an administrator
// sees it. The administrators are never named.
type RequestView struct {
	ID                 int64                `json:"id"`
	Program            models.Program       `json:"program"`
	LicenseNumber      string               `json:"license_number"`
	Permissions        []models.Permission  `json:"permissions"`
	GrantedPermissions []models.Permission  `json:"granted_permissions,omitempty"`
	Comment            string               `json:"comment,omitempty"`
	Status             models.RequestStatus `json:"status"`
	DecisionMessage    string               `json:"decision_message,omitempty"`
	Requester          string               `json:"requester,omitempty"` // for administrators
	CreatedAt          time.Time            `json:"created_at"`
	ExpiresAt          time.Time            `json:"expires_at"`
	DecidedAt          *time.Time           `json:"decided_at,omitempty"`
}

func (in *RequestInput) validate() error {
	var fields []models.FieldError
	in.LicenseNumber = strings.TrimSpace(in.LicenseNumber)
	in.AuthorizationNumber = strings.TrimSpace(in.AuthorizationNumber)
	if !in.Program.Valid() {
		fields = append(fields, models.FieldError{Field: "program", Key: "err.field.program", Message: "choose mbsa, enterprise, select_plus, open_value or open_license"})
	}
	if in.LicenseNumber == "" || utf8.RuneCountInString(in.LicenseNumber) > 64 {
		fields = append(fields, models.FieldError{Field: "license_number", Key: "err.field.license_number", Message: "give the License ID (for Open License, the license number)"})
	}
	if in.Program == models.ProgramOpenLicense && in.AuthorizationNumber == "" {
		fields = append(fields, models.FieldError{Field: "authorization_number", Key: "err.field.authorization_number", Message: "an Open License request needs the authorization number printed on the order"})
	}
	if len(in.Permissions) == 0 {
		fields = append(fields, models.FieldError{Field: "permissions", Key: "err.field.permissions_empty", Message: "pick one or more permissions"})
	}
	for _, p := range in.Permissions {
		if !p.Valid() {
			fields = append(fields, models.FieldError{Field: "permissions", Key: "err.field.not_permission", Args: models.Args{"Value": string(p)}, Message: fmt.Sprintf("%q is not a permission", p)})
		}
	}
	if utf8.RuneCountInString(in.Comment) > maxRequestCommentLength {
		fields = append(fields, models.FieldError{Field: "comment", Key: "err.field.too_long", Args: models.Args{"Max": maxRequestCommentLength}, Message: fmt.Sprintf("keep the comment to %d characters", maxRequestCommentLength)})
	}
	if len(fields) > 0 {
		return models.InvalidKey("err.request.invalid", "Check the request.", fields...)
	}
	slices.Sort(in.Permissions)
	in.Permissions = slices.Compact(in.Permissions)
	return nil
}

// Submit files an access request. When the licence does not exist, the
// program or authorization number is wrong, or the licence has no
// administrator, the answer is ErrRequestFailed whatever the cause (which
// is recorded for operators); too many failures, by the user or from the
// client address, lock the feature for a while. An identical pending
// request is returned instead of a new one (created is then false). The
// licence's administrators are mailed.
func (r *Requests) Submit(ctx context.Context, user int64, in RequestInput) (view *RequestView, created bool, err error) {
	u, err := r.store.User(ctx, user)
	if err != nil {
		return nil, false, err
	}
	if u.WorkEmailVerifiedAt == nil {
		return nil, false, ErrVerifyFirst
	}
	if err := in.validate(); err != nil {
		return nil, false, err
	}
	target, err := r.examine(ctx, in)
	if err != nil {
		return nil, false, err
	}
	err = r.store.InTx(ctx, func(tx *models.Tx) error {
		// Counting the failures and recording the next one are one step.
		if err := r.checkLockout(tx, user, in.ClientAddress); err != nil {
			return err
		}
		req := r.newRequest(tx.Now(), user, in, target.agreement.ID)
		if target.reason != "" {
			return r.recordFailure(tx, &req, target.reason)
		}
		view, created, err = r.file(tx, u, &req, in, target)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if target.reason != "" {
		return nil, false, ErrRequestFailed
	}
	return view, created, nil
}

// requestTarget is what a request names: the licence (zero when unknown),
// its administrators, and why the request fails ("" when it does not).
type requestTarget struct {
	agreement models.Agreement
	admins    []recipient
	reason    string
}

// examine looks up the licence a request names. Every path does the same
// lookups, so that the answer's timing tells the causes apart as little as
// its content does.
func (r *Requests) examine(ctx context.Context, in RequestInput) (*requestTarget, error) {
	ag, err := r.store.AgreementByNumber(ctx, in.LicenseNumber)
	if err != nil {
		return nil, err
	}
	t := &requestTarget{}
	if ag != nil {
		t.agreement = *ag
	}
	authOK := r.store.Keyring().HashEqual("open-license-authorization-number", in.AuthorizationNumber, deref(t.agreement.AuthHash))
	if t.admins, err = r.administrators(ctx, t.agreement.ID); err != nil {
		return nil, err
	}
	switch {
	case ag == nil:
		t.reason = FailureUnknownLicence
	case ag.Program != in.Program:
		t.reason = FailureWrongProgram
	case ag.Program == models.ProgramOpenLicense && !authOK:
		t.reason = FailureWrongAuthNumber
	case len(t.admins) == 0:
		t.reason = FailureNoAdministrator
	}
	return t, nil
}

// checkLockout refuses when the user, or anyone at the client address, has
// failed too often lately. It locks both until tx ends.
func (r *Requests) checkLockout(tx *models.Tx, user int64, client string) error {
	if err := tx.LockAccessRequests(user, client); err != nil {
		return err
	}
	max := r.opts.MaxFailures
	byUser, byClient, err := tx.RecentFailures(user, client, tx.Now().Add(-r.opts.LockWindow), max)
	if err != nil {
		return err
	}
	// The lock ends when the max-th newest failure leaves the window.
	var until time.Time
	for _, times := range [][]time.Time{byUser, byClient} {
		if len(times) >= max {
			if end := times[max-1].Add(r.opts.LockWindow); end.After(until) {
				until = end
			}
		}
	}
	if until.IsZero() {
		return nil
	}
	// Said to the minute, rounded up, so that trying at that time works.
	until = until.UTC().Truncate(time.Minute).Add(time.Minute)
	e := models.New(models.CodeTooMany, "err.request.locked", fmt.Sprintf(
		"Too many access requests failed. Try again after %s, or contact support.", until.Format("2 January 2006, 15:04 UTC")))
	e = e.With(models.Args{"Until": until})
	e.RetryAfter = until.Sub(tx.Now())
	return e
}

func (r *Requests) newRequest(now time.Time, user int64, in RequestInput, agreement int64) models.AccessRequest {
	req := models.AccessRequest{
		RequesterID: user, Program: in.Program, LicenseNumber: in.LicenseNumber,
		Permissions: joinPerms(in.Permissions), Comment: in.Comment, ClientAddress: in.ClientAddress,
		ExpiresAt: now.Add(r.opts.TTL), CreatedAt: now, UpdatedAt: now,
	}
	if agreement != 0 {
		req.AgreementID = &agreement
	}
	return req
}

// recordFailure records req as failed for reason, for operators.
func (r *Requests) recordFailure(tx *models.Tx, req *models.AccessRequest, reason string) error {
	req.Status, req.FailureReason = models.RequestFailed, reason
	if err := tx.CreateAccessRequest(req); err != nil {
		return err
	}
	return tx.AppendAudit(userActor(req.RequesterID), AuditRequestFailed, req.AgreementID,
		map[string]any{"request_id": req.ID, "license_number": req.LicenseNumber, "reason": reason})
}

// file records req as pending (or finds the identical pending one) and
// mails the licence's administrators.
func (r *Requests) file(tx *models.Tx, u *models.User, req *models.AccessRequest, in RequestInput, t *requestTarget) (*RequestView, bool, error) {
	existing, err := tx.PendingAccessRequestLike(u.ID, t.agreement.ID, req.Permissions)
	if err != nil {
		return nil, false, err
	}
	if existing != nil {
		return r.view(*existing, ""), false, nil
	}
	req.Status = models.RequestPending
	if err := tx.CreateAccessRequest(req); err != nil {
		return nil, false, err
	}
	requester := u.DisplayName
	if u.WorkEmail != nil {
		requester = strings.TrimSpace(requester + " <" + *u.WorkEmail + ">")
	}
	for _, admin := range t.admins {
		msg := mailer.Message{To: admin.email, Language: admin.language, Template: mailer.TemplateAccessRequestNew, Data: map[string]any{
			"Requester": requester, "Licence": t.agreement.Number, "Permissions": permStrings(in.Permissions),
			"Comment": in.Comment, "Link": r.opts.BaseURL + "/access-requests/pending",
		}}
		if err := mailer.Enqueue(tx, msg); err != nil {
			return nil, false, err
		}
	}
	if r.opts.Kick != nil {
		tx.OnCommit(r.opts.Kick)
	}
	err = tx.AppendAudit(userActor(u.ID), AuditRequestCreated, &t.agreement.ID,
		map[string]any{"request_id": req.ID, "permissions": in.Permissions})
	return r.view(*req, ""), true, err
}

type recipient struct {
	id              int64
	email, language string
}

// administrators returns the administrators of licence who can be mailed.
func (r *Requests) administrators(ctx context.Context, licence int64) ([]recipient, error) {
	if licence == 0 {
		// Keep the work of the lookup for an unknown licence.
		_, _ = r.authz.Users(ctx, 0)
		return nil, nil
	}
	grants, err := r.authz.Users(ctx, licence)
	if err != nil {
		return nil, err
	}
	return mailable(ctx, r.store, appendAdministrators(nil, grants))
}

// appendAdministrators appends to ids the administrators among grants
// that ids does not hold yet.
func appendAdministrators(ids []int64, grants []authz.UserGrant) []int64 {
	for _, g := range grants {
		if g.Permission == models.PermAdministrator && !slices.Contains(ids, g.UserID) {
			ids = append(ids, g.UserID)
		}
	}
	return ids
}

// mailable returns the users ids who have a confirmed work email, as
// recipients of a mail.
func mailable(ctx context.Context, store *models.Store, ids []int64) ([]recipient, error) {
	users, err := store.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]recipient, 0, len(users))
	for _, u := range users {
		if u.WorkEmail != nil && u.WorkEmailVerifiedAt != nil {
			out = append(out, recipient{u.ID, *u.WorkEmail, u.Language})
		}
	}
	return out, nil
}

// Mine lists the user's own requests, newest first (failed ones too, with
// the same one-line status and no reason).
func (r *Requests) Mine(ctx context.Context, user int64) ([]RequestView, error) {
	reqs, err := r.store.AccessRequestsBy(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]RequestView, 0, len(reqs))
	for _, q := range reqs {
		out = append(out, *r.view(q, ""))
	}
	return out, nil
}

// Pending lists the pending requests on the licences admin administers.
func (r *Requests) Pending(ctx context.Context, admin int64) ([]RequestView, error) {
	var licences []int64
	for _, la := range r.authz.Licences(admin) {
		if slices.Contains(la.Permissions, models.PermAdministrator) {
			licences = append(licences, la.AgreementID)
		}
	}
	reqs, err := r.store.PendingAccessRequestsOn(ctx, licences)
	if err != nil {
		return nil, err
	}
	out := []RequestView{}
	for _, q := range reqs {
		requester, err := r.store.User(ctx, q.RequesterID)
		if err != nil {
			return nil, err
		}
		who := requester.DisplayName
		if requester.WorkEmail != nil {
			who = strings.TrimSpace(who + " <" + *requester.WorkEmail + ">")
		}
		out = append(out, *r.view(q, who))
	}
	return out, nil
}

// Cancel withdraws the user's own pending request.
func (r *Requests) Cancel(ctx context.Context, user, id int64) error {
	return r.store.InTx(ctx, func(tx *models.Tx) error {
		req, err := tx.AccessRequestForUpdate(id)
		if err != nil || req.RequesterID != user {
			return requestNotFound(nil) // someone else's request does not exist for this user
		}
		if req.Status != models.RequestPending {
			return ErrRequestDecided
		}
		if err := r.close(tx, req, models.AccessRequestClosing{Status: models.RequestCancelled}); err != nil {
			return err
		}
		return tx.AppendAudit(userActor(user), AuditRequestCancelled, req.AgreementID, map[string]any{"request_id": id})
	})
}

// Approve grants the requester all or some of the requested permissions,
// with the audit events of the grants and the decision, and mails the
// requester. Only an administrator of the licence may decide.
func (r *Requests) Approve(ctx context.Context, admin, id int64, perms []models.Permission) error {
	return r.decide(ctx, admin, id, true, perms, "")
}

// Deny refuses the request with a message to the requester.
func (r *Requests) Deny(ctx context.Context, admin, id int64, message string) error {
	if utf8.RuneCountInString(message) > maxRequestCommentLength {
		return models.InvalidKey("err.message.too_long", "Keep the message short.", models.FieldError{Field: "message", Key: "err.field.too_long", Args: models.Args{"Max": maxRequestCommentLength}, Message: fmt.Sprintf("at most %d characters", maxRequestCommentLength)})
	}
	return r.decide(ctx, admin, id, false, nil, message)
}

// decide approves or denies request id. The request is locked while it is
// decided: of two decisions at once, the second finds it decided. The
// authorization lock comes first, so the decider's right to manage the
// licence is checked under the lock that authz's own changes take.
func (r *Requests) decide(ctx context.Context, admin, id int64, approve bool, perms []models.Permission, message string) error {
	return r.store.InTx(ctx, func(tx *models.Tx) error {
		if err := tx.LockAuthz(); err != nil {
			return err
		}
		req, err := tx.AccessRequestForUpdate(id)
		if err != nil {
			return requestNotFound(err)
		}
		// Someone who may not decide learns nothing, not even that it exists.
		if req.AgreementID == nil || !r.authz.Can(admin, *req.AgreementID, authz.ActManage) {
			return requestNotFound(nil)
		}
		if req.Status != models.RequestPending || !tx.Now().Before(req.ExpiresAt) {
			return ErrRequestDecided
		}
		status, kind := models.RequestDenied, AuditRequestDenied
		if approve {
			status, kind = models.RequestApproved, AuditRequestApproved
			if perms, err = r.grantRequested(tx, admin, req, perms); err != nil {
				return err
			}
		}
		err = r.close(tx, req, models.AccessRequestClosing{Status: status, DecisionMessage: message,
			GrantedPermissions: joinPerms(perms), DecidedBy: &admin})
		if err != nil {
			return err
		}
		if err := r.mailRequester(tx, req, mailer.TemplateAccessRequestDecided, map[string]any{
			"Licence": req.LicenseNumber, "Approved": approve, "Permissions": permStrings(perms),
			"Message": message, "Link": r.opts.BaseURL + "/",
		}); err != nil {
			return err
		}
		return tx.AppendAudit(userActor(admin), kind, req.AgreementID,
			map[string]any{"request_id": req.ID, "requester_id": req.RequesterID, "permissions": perms})
	})
}

// grantRequested grants the requester perms (all requested ones when
// empty), each of which must have been requested, and returns them.
func (r *Requests) grantRequested(tx *models.Tx, admin int64, req *models.AccessRequest, perms []models.Permission) ([]models.Permission, error) {
	requested := splitPerms(req.Permissions)
	if len(perms) == 0 {
		perms = requested
	}
	for _, p := range perms {
		if !slices.Contains(requested, p) {
			return nil, models.InvalidKey("err.request.not_requested", "Approve only permissions that were requested.",
				models.FieldError{Field: "permissions", Key: "err.field.not_requested", Args: models.Args{"Value": string(p)}, Message: fmt.Sprintf("%q was not requested", p)})
		}
	}
	actor := userActor(admin)
	for _, p := range perms {
		if err := r.authz.Grant(tx, actor, req.RequesterID, req.AgreementID, p, models.SourceDirect); err != nil {
			return nil, err
		}
	}
	return perms, nil
}

// ExpirePending closes pending requests past their expiry and mails their
// requesters; the server runs it now and then.
func (r *Requests) ExpirePending(ctx context.Context) (int, error) {
	reqs, err := r.store.ExpiredAccessRequests(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range reqs {
		req := &reqs[i]
		err := r.store.InTx(ctx, func(tx *models.Tx) error {
			if err := r.close(tx, req, models.AccessRequestClosing{Status: models.RequestExpired}); err != nil {
				return err
			}
			if err := r.mailRequester(tx, req, mailer.TemplateAccessRequestExpired, map[string]any{"Licence": req.LicenseNumber}); err != nil {
				return err
			}
			return tx.AppendAudit(system, AuditRequestExpired, req.AgreementID, map[string]any{"request_id": req.ID})
		})
		if errors.Is(err, ErrRequestDecided) {
			continue // decided meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// close moves a pending request as c says, only if it is still pending.
func (r *Requests) close(tx *models.Tx, req *models.AccessRequest, c models.AccessRequestClosing) error {
	ok, err := tx.CloseAccessRequest(req.ID, c)
	if err != nil {
		return err
	}
	if !ok {
		return ErrRequestDecided
	}
	req.Status = c.Status
	return nil
}

func (r *Requests) mailRequester(tx *models.Tx, req *models.AccessRequest, template string, data map[string]any) error {
	u, err := tx.User(req.RequesterID)
	if err != nil {
		return err
	}
	if u.WorkEmail == nil || u.WorkEmailVerifiedAt == nil {
		return nil
	}
	if err := mailer.Enqueue(tx, mailer.Message{To: *u.WorkEmail, Language: u.Language, Template: template, Data: data}); err != nil {
		return err
	}
	if r.opts.Kick != nil {
		tx.OnCommit(r.opts.Kick)
	}
	return nil
}

func (r *Requests) view(q models.AccessRequest, requester string) *RequestView {
	v := &RequestView{
		ID: q.ID, Program: q.Program, LicenseNumber: q.LicenseNumber, Permissions: splitPerms(q.Permissions),
		GrantedPermissions: splitPerms(q.GrantedPermissions), Comment: q.Comment, Status: q.Status,
		DecisionMessage: q.DecisionMessage, Requester: requester, CreatedAt: q.CreatedAt, ExpiresAt: q.ExpiresAt, DecidedAt: q.DecidedAt,
	}
	if v.Status == models.RequestPending && !r.store.Now().Before(q.ExpiresAt) {
		v.Status = models.RequestExpired
	}
	return v
}

// requestNotFound hides why a request cannot be acted on.
func requestNotFound(err error) error {
	if errors.Is(err, ErrRequestDecided) {
		return err
	}
	return models.New(models.CodeNotFound, "err.request.not_found", "No such access request.")
}

func joinPerms(ps []models.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

func splitPerms(s string) []models.Permission {
	if s == "" {
		return nil
	}
	var out []models.Permission
	for _, p := range strings.Split(s, ",") {
		out = append(out, models.Permission(p))
	}
	return out
}

func permStrings(ps []models.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
