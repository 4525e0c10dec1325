package frontend

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// RequestsUseCases is what the access request pages ask of the application
// (*app.Requests).
type RequestsUseCases interface {
	Submit(ctx context.Context, user int64, in app.RequestInput) (*app.RequestView, bool, error)
	Mine(ctx context.Context, user int64) ([]app.RequestView, error)
	Pending(ctx context.Context, admin int64) ([]app.RequestView, error)
	Cancel(ctx context.Context, user, id int64) error
	Approve(ctx context.Context, admin, id int64, perms []models.Permission) error
	Deny(ctx context.Context, admin, id int64, message string) error
}

var _ RequestsUseCases = (*app.Requests)(nil)

// maxCommentLength is the longest comment or decision message, in
// characters (the application's limit).
const maxCommentLength = 500

// MountRequests registers the access request pages:
//
//	GET  /access-requests/new           Settings → Request access: the form
//	POST /access-requests/new           files the request
//	GET  /access-requests               the user's own requests
//	POST /access-requests/:id/cancel    withdraws a pending one
//	GET  /access-requests/pending       requests waiting for the administrator
//	POST /access-requests/:id/approve   grants the ticked permissions
//	POST /access-requests/:id/deny      refuses, with a message
//
// Every page requires sign-in; every POST answers with a redirect to a page
// with a notice (post/redirect/get), or the form again with what is wrong.
func (u *UI) MountRequests(r gin.IRouter, req RequestsUseCases) {
	h := requestPages{ui: u, req: req}
	r.GET("/access-requests/new", u.page(h.form))
	r.POST("/access-requests/new", u.limit(u.limits.AccessRequests), h.submit)
	r.GET("/access-requests", u.page(h.mine))
	r.POST("/access-requests/:id/cancel", h.cancel)
	r.GET("/access-requests/pending", u.page(h.pending))
	r.POST("/access-requests/:id/approve", h.approve)
	r.POST("/access-requests/:id/deny", h.deny)
}

type requestPages struct {
	ui  *UI
	req RequestsUseCases
}

// requestFormView is the data of request_access.html. The authorization
// number is a shared secret and is never echoed back.
type requestFormView struct {
	Programs      []models.Program
	Permissions   []models.Permission
	Program       string
	LicenseNumber string
	Comment       string
	Chosen        []models.Permission
	MaxComment    int
	Errors        []models.FieldError
	Failed        bool // the one "access request failed" answer
	FailedMessage string
	Locked        bool   // too many failed requests
	LockedText    string // the lockout message, saying until when
	VerifyFirst   bool   // the work email is not confirmed
}

// Invalid reports whether the field is in error.
func (v requestFormView) Invalid(field string) bool {
	return slices.ContainsFunc(v.Errors, func(e models.FieldError) bool { return e.Field == field })
}

// Checked reports whether the permission is ticked.
func (v requestFormView) Checked(p models.Permission) bool { return slices.Contains(v.Chosen, p) }

func newRequestForm() requestFormView {
	return requestFormView{Programs: models.Programs, Permissions: models.Permissions, MaxComment: maxCommentLength}
}

func (h requestPages) form(c *gin.Context) {
	if _, _, ok := h.ui.signedIn(c); !ok {
		return
	}
	v := newRequestForm()
	if p := models.Program(c.Query("program")); p.Valid() {
		v.Program = string(p)
	}
	v.LicenseNumber = strings.TrimSpace(c.Query("license_number"))
	h.ui.render(c, http.StatusOK, "request_access.html", "request-new", v)
}

// checkedPermissions returns the known permissions among the form's
// "permissions" values, in display order.
func checkedPermissions(c *gin.Context) []models.Permission {
	values := c.PostFormArray("permissions")
	var out []models.Permission
	for _, p := range models.Permissions {
		if slices.Contains(values, string(p)) {
			out = append(out, p)
		}
	}
	return out
}

func (h requestPages) submit(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	in := app.RequestInput{
		Program:             models.Program(c.PostForm("program")),
		LicenseNumber:       c.PostForm("license_number"),
		AuthorizationNumber: c.PostForm("authorization_number"),
		Permissions:         checkedPermissions(c),
		Comment:             c.PostForm("comment"),
	}
	// Open License is the only program with an authorization number; the
	// field is always shown (pages work without JavaScript), so ignore it
	// for the others.
	if in.Program != models.ProgramOpenLicense {
		in.AuthorizationNumber = ""
	}
	v := newRequestForm()
	v.Program, v.LicenseNumber, v.Comment, v.Chosen = string(in.Program), in.LicenseNumber, in.Comment, in.Permissions
	if len(c.PostFormArray("permissions")) != len(in.Permissions) {
		// A value that is not a permission: the application says what.
		for _, p := range c.PostFormArray("permissions") {
			in.Permissions = append(in.Permissions, models.Permission(p))
		}
	}
	in.ClientAddress = c.ClientIP() // behind the configured trusted proxies only
	view, created, err := h.req.Submit(c.Request.Context(), user, in)
	var e *models.Error
	switch {
	case err == nil:
		target := "/access-requests?created=1"
		if !created {
			target = "/access-requests?existing=1"
		}
		if view != nil {
			target += "#request-" + strconv.FormatInt(view.ID, 10)
		}
		c.Redirect(http.StatusSeeOther, target)
	case errors.Is(err, app.ErrRequestFailed):
		v.Failed, v.FailedMessage = true, h.ui.errorText(c, err)
		h.ui.render(c, http.StatusUnprocessableEntity, "request_access.html", "request-new", v)
	case errors.Is(err, app.ErrVerifyFirst):
		v.VerifyFirst = true
		h.ui.render(c, http.StatusForbidden, "request_access.html", "request-new", v)
	case models.ErrorCode(err) == models.CodeTooMany:
		v.Locked = true
		if models.ErrorKey(err) != "" { // says until when
			v.LockedText = h.ui.errorText(c, err)
		}
		httperr.SetRetryUntil(c, err)
		h.ui.render(c, http.StatusTooManyRequests, "request_access.html", "request-new", v)
	case errors.As(err, &e) && e.Code == models.CodeInvalid && len(e.Fields) > 0:
		v.Errors = e.Fields
		h.ui.render(c, http.StatusUnprocessableEntity, "request_access.html", "request-new", v)
	default:
		h.ui.Error(c, httperr.Status(err), err)
	}
}

// requestRow is one access request as the pages show it.
type requestRow struct {
	app.RequestView
	Decided time.Time // zero while undecided
}

func requestRows(views []app.RequestView) []requestRow {
	rows := make([]requestRow, 0, len(views))
	for _, rv := range views {
		row := requestRow{RequestView: rv}
		if rv.DecidedAt != nil {
			row.Decided = *rv.DecidedAt
		}
		rows = append(rows, row)
	}
	return rows
}

// Pending reports whether the request is still waiting for a decision.
func (r requestRow) Pending() bool { return r.Status == models.RequestPending }

// myRequestsView is the data of my_requests.html.
type myRequestsView struct {
	Notice   string // created, existing or cancelled
	Error    string // message ID of a failed cancellation
	Requests []requestRow
}

func (h requestPages) mine(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	h.showMine(c, user, http.StatusOK, "")
}

func (h requestPages) showMine(c *gin.Context, user int64, status int, errID string) {
	views, err := h.req.Mine(c.Request.Context(), user)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	v := myRequestsView{Error: errID, Requests: requestRows(views)}
	if errID == "" {
		for _, n := range []string{"created", "existing", "cancelled"} {
			if c.Query(n) == "1" {
				v.Notice = n
			}
		}
	}
	h.ui.render(c, status, "my_requests.html", "requests", v)
}

// requestID parses the :id of the URL; a bad one is a 404.
func (h requestPages) requestID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.ui.Error(c, http.StatusNotFound, models.Errorf(models.CodeNotFound, "No such access request."))
		return 0, false
	}
	return id, true
}

func (h requestPages) cancel(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	id, ok := h.requestID(c)
	if !ok {
		return
	}
	err := h.req.Cancel(c.Request.Context(), user, id)
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/access-requests?cancelled=1")
	case errors.Is(err, app.ErrRequestDecided):
		h.showMine(c, user, http.StatusConflict, "requests.error.decided")
	default:
		h.ui.Error(c, httperr.Status(err), err)
	}
}

// pendingRow is a request waiting for the administrator, with the state of
// its forms.
type pendingRow struct {
	requestRow
	Chosen  []models.Permission // ticked in the approve form
	Message string              // typed in the deny form
	Error   string              // message ID of what went wrong
}

// Checked reports whether the permission is ticked in the approve form.
func (r pendingRow) Checked(p models.Permission) bool { return slices.Contains(r.Chosen, p) }

// pendingView is the data of pending.html.
type pendingView struct {
	Notice     string // approved or denied
	Error      string // message ID of a failure not tied to a request still listed
	Requests   []pendingRow
	MaxMessage int
}

func (h requestPages) pending(c *gin.Context) {
	admin, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	notice := ""
	for _, n := range []string{"approved", "denied"} {
		if c.Query(n) == "1" {
			notice = n
		}
	}
	h.showPending(c, admin, http.StatusOK, notice, "", nil)
}

// failedDecision is an approval or denial that did not go through, shown
// again with what was submitted.
type failedDecision struct {
	id      int64
	approve bool
	chosen  []models.Permission // the ticked permissions of an approval
	message string              // the message of a denial
	errID   string              // message ID of what went wrong
}

// showPending renders the pending list, with the forms of a failed decision
// as they were submitted.
func (h requestPages) showPending(c *gin.Context, admin int64, status int, notice, errID string, failed *failedDecision) {
	views, err := h.req.Pending(c.Request.Context(), admin)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	v := pendingView{Notice: notice, Error: errID, MaxMessage: maxCommentLength}
	for _, row := range requestRows(views) {
		pr := pendingRow{requestRow: row, Chosen: row.Permissions}
		if failed != nil && failed.id == row.ID {
			pr.Message, pr.Error = failed.message, failed.errID
			if failed.approve {
				pr.Chosen = failed.chosen
			}
		}
		v.Requests = append(v.Requests, pr)
	}
	h.ui.render(c, status, "pending.html", "pending", v)
}

func (h requestPages) approve(c *gin.Context) {
	admin, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	id, ok := h.requestID(c)
	if !ok {
		return
	}
	perms := checkedPermissions(c)
	failed := &failedDecision{id: id, approve: true, chosen: perms}
	if len(perms) == 0 {
		// The application approves everything requested when given
		// nothing: an administrator who unticked every box did not mean that.
		failed.errID = "pending.error.none_checked"
		h.showPending(c, admin, http.StatusUnprocessableEntity, "", "", failed)
		return
	}
	err := h.req.Approve(c.Request.Context(), admin, id, perms)
	h.decided(c, admin, err, "/access-requests/pending?approved=1", failed)
}

func (h requestPages) deny(c *gin.Context) {
	admin, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	id, ok := h.requestID(c)
	if !ok {
		return
	}
	message := strings.TrimSpace(c.PostForm("message"))
	failed := &failedDecision{id: id, message: message}
	if utf8.RuneCountInString(message) > maxCommentLength {
		failed.errID = "pending.error.message_too_long"
		h.showPending(c, admin, http.StatusUnprocessableEntity, "", "", failed)
		return
	}
	err := h.req.Deny(c.Request.Context(), admin, id, message)
	h.decided(c, admin, err, "/access-requests/pending?denied=1", failed)
}

// decided answers an approval or denial: a redirect when it worked, the
// list again with what went wrong otherwise.
func (h requestPages) decided(c *gin.Context, admin int64, err error, target string, failed *failedDecision) {
	var e *models.Error
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, target)
	case errors.Is(err, app.ErrRequestDecided):
		// The request has left the list: say so at the top.
		h.showPending(c, admin, http.StatusConflict, "", "requests.error.decided", nil)
	case errors.As(err, &e) && e.Code == models.CodeInvalid:
		failed.errID = "pending.error.not_requested"
		if !failed.approve {
			failed.errID = "pending.error.message_too_long"
		}
		h.showPending(c, admin, http.StatusUnprocessableEntity, "", "", failed)
	default:
		h.ui.Error(c, httperr.Status(err), err)
	}
}
