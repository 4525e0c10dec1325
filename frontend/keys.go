package frontend

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// KeysUseCases is what the key, activation and verification form pages ask
// of the application (*app.Keys).
type KeysUseCases interface {
	List(ctx context.Context, user, licence int64) ([]app.KeyView, error)
	FilteredPage(ctx context.Context, user, licence int64, q app.KeyListQuery) (*app.KeyList, error)
	Reveal(ctx context.Context, user, licence, keyID int64, source string) (string, error)
	WriteCSV(ctx context.Context, user, licence int64, reveal bool, source string, w io.Writer) error
	RequestActivations(ctx context.Context, user, licence int64, suffix string, quantity int64, reason string) (*app.ActivationView, error)
	MyActivationRequests(ctx context.Context, user int64) ([]app.ActivationView, error)
	PendingActivations(ctx context.Context, op int64) ([]app.ActivationView, error)
	ApproveActivations(ctx context.Context, op, id int64, message string) error
	DenyActivations(ctx context.Context, op, id int64, message string) error
	VerificationForm(ctx context.Context, user, licence int64) (*app.VerificationFormData, error)
}

var _ KeysUseCases = (*app.Keys)(nil)

// MountKeys registers the product key pages:
//
//	GET  /licences/:licence/keys                  masked keys, MAK usage, export, "request more activations" (read_keys)
//	POST /licences/:licence/keys/:key/reveal      reveal one key (audited): 303 to the keys page, which shows it once
//	GET  /licences/:licence/keys/export           CSV of the masked keys
//	POST /licences/:licence/keys/export           CSV of the whole keys, after a confirmation checkbox (audited)
//	POST /licences/:licence/activation-requests   ask for more activations of a MAK
//	GET  /licences/:licence/verification-form     printable base-licence verification form (view)
//	GET  /operator/activations                    the operators' queue of activation requests
//	POST /operator/activations/:id/approve|deny   decide one, with a message
//
// guard lets only users with the permission on the licence through (others
// get the page of an unknown licence); a guard without Fail gets the
// answers of LicenceGuard. isOperator tells operators (such as
// (*authz.Authorizer).IsOperator); the application checks again.
func (u *UI) MountKeys(r gin.IRouter, k KeysUseCases, guard authz.Guard, isOperator func(int64) bool) {
	if guard.Fail == nil {
		guard.Fail = u.guardFail
	}
	h := keysPage{ui: u, k: k, isOperator: isOperator, tickets: newRevealTickets(time.Now)}
	g := r.Group("/licences/:licence", guard.Require(authz.ActReadKeys, "licence"))
	g.GET("/keys", u.page(h.show))
	g.POST("/keys/:key/reveal", h.reveal)
	g.GET("/keys/export", h.exportMasked)
	g.POST("/keys/export", h.exportRevealed)
	g.POST("/activation-requests", h.request)
	r.GET("/licences/:licence/verification-form", guard.Require(authz.ActView, "licence"), u.page(h.verificationForm))
	r.GET("/operator/activations", u.page(h.queue))
	r.POST("/operator/activations/:id/:decision", h.decide)
}

type keysPage struct {
	ui         *UI
	k          KeysUseCases
	isOperator func(int64) bool
	tickets    *revealTickets // revealed keys on their way to the page
}

// keysView is the data of keys.html.
type keysView struct {
	Licence  string   // the licence number, as in the URL
	Keys     []keyRow // the page of keys the query shows
	List     keyList  // the query, and links to other pages and orders
	AnyKeys  bool     // the licence has keys, whatever the filter
	HasMAK   bool
	Revealed *revealedKey
	Mine     []app.ActivationView // the user's requests on this licence
	Notice   string               // message ID of a success notice
	// The activation request form, echoed after an error.
	Suffix, Quantity, Reason string
	Errors                   []models.FieldError
	ErrorText                string // the application's explanation of a refusal
	ExportError              bool   // the confirmation box was not ticked
}

// Invalid reports whether the activation request field is in error.
func (v keysView) Invalid(field string) bool {
	for _, e := range v.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

type revealedKey struct {
	ID      int64
	Product string
	Type    string
	Key     string
}

func (h keysPage) user(c *gin.Context) int64 {
	user, _ := app.UserID(c.Request.Context())
	return user
}

func (h keysPage) fail(c *gin.Context, err error) {
	if errors.Is(err, authz.ErrNoSuchLicence) {
		h.ui.errorPage(c, http.StatusNotFound, "users.no_such_licence")
		return
	}
	h.ui.Error(c, httperr.Status(err), err)
}

// load fills in the keys and the user's requests of the licence.
func (h keysPage) load(c *gin.Context, v *keysView) error {
	ctx := c.Request.Context()
	user := h.user(c)
	v.Licence = c.Param("licence")
	q := parseKeyQuery(c)
	page, err := h.k.FilteredPage(ctx, user, authz.LicenceID(c),
		app.KeyListQuery{Q: q.Q, Status: models.KeyStatus(q.Status), Sort: q.Sort, Page: q.Page, Size: keysPageSize})
	if err != nil {
		return err
	}
	text := h.ui.pageText(c.Request)
	v.Keys, v.List, v.AnyKeys, v.HasMAK = keyRows(text, v.Licence, page.Keys), q.list(v.Licence, page.Total), page.AnyKeys, page.HasMAK
	if text.err != nil {
		return text.err
	}
	mine, err := h.k.MyActivationRequests(ctx, user)
	if err != nil {
		return err
	}
	for _, m := range mine {
		if m.Licence == v.Licence {
			v.Mine = append(v.Mine, m)
		}
	}
	return nil
}

func (h keysPage) render(c *gin.Context, status int, v keysView) {
	if err := h.load(c, &v); err != nil {
		h.fail(c, err)
		return
	}
	h.ui.render(c, status, "keys.html", "licences", v)
}

func (h keysPage) show(c *gin.Context) {
	v := keysView{Suffix: cutString(strings.ToUpper(strings.TrimSpace(c.Query("suffix"))), 5)}
	if c.Query("requested") == "1" {
		v.Notice = "activations.notice.requested"
	}
	if ticket := c.Query("revealed"); ticket != "" {
		// The page of a revealed key is never stored, and a second look
		// (reload, back) finds the ticket used and shows no key.
		c.Writer = noStore{c.Writer}
		if key, ok := h.tickets.take(ticket, h.user(c), authz.LicenceID(c)); ok {
			v.Revealed = key
		} else {
			v.Notice = "keys.revealed.gone"
		}
	}
	h.render(c, http.StatusOK, v)
}

// noStore makes the response of a revealed key uncacheable, whatever the
// page renderer sets.
type noStore struct{ gin.ResponseWriter }

func (w noStore) WriteHeader(code int) {
	w.Header().Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(code)
}

func (w noStore) WriteHeaderNow() {
	w.Header().Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeaderNow()
}

func (h keysPage) reveal(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		h.fail(c, app.ErrNoSuchKey)
		return
	}
	key, err := h.k.Reveal(c.Request.Context(), h.user(c), authz.LicenceID(c), id, c.ClientIP())
	if err != nil {
		h.fail(c, err)
		return
	}
	revealed := revealedKey{ID: id, Key: key}
	keys, err := h.k.List(c.Request.Context(), h.user(c), authz.LicenceID(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	for _, k := range keys {
		if k.ID == id {
			revealed.Product, revealed.Type = k.Product, k.Type
		}
	}
	ticket := h.tickets.put(h.user(c), authz.LicenceID(c), revealed)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, "/licences/"+url.PathEscape(c.Param("licence"))+"/keys?revealed="+ticket+"#revealed-heading")
}

func (h keysPage) export(c *gin.Context, reveal bool) {
	var buf bytes.Buffer
	if err := h.k.WriteCSV(c.Request.Context(), h.user(c), authz.LicenceID(c), reveal, c.ClientIP(), &buf); err != nil {
		h.fail(c, err)
		return
	}
	name := "openlsc-keys-" + safeFileName(c.Param("licence"))
	if reveal {
		name += "-revealed"
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// safeFileName keeps the letters, digits, dots and dashes of s.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

func (h keysPage) exportMasked(c *gin.Context) { h.export(c, false) }

func (h keysPage) exportRevealed(c *gin.Context) {
	if c.PostForm("confirm") != "1" {
		h.render(c, http.StatusUnprocessableEntity, keysView{ExportError: true})
		return
	}
	h.export(c, true)
}

func (h keysPage) request(c *gin.Context) {
	v := keysView{Suffix: c.PostForm("key_suffix"), Quantity: c.PostForm("quantity"), Reason: c.PostForm("reason")}
	qty, err := strconv.ParseInt(strings.TrimSpace(v.Quantity), 10, 64)
	if err != nil {
		qty = 0 // refused below as out of range
	}
	_, err = h.k.RequestActivations(c.Request.Context(), h.user(c), authz.LicenceID(c), v.Suffix, qty, v.Reason)
	var e *models.Error
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/licences/"+url.PathEscape(c.Param("licence"))+"/keys?requested=1#activation-requests")
	case errors.As(err, &e) && e.Code == models.CodeInvalid:
		v.Errors, v.ErrorText = e.Fields, h.ui.errorText(c, err)
		if errors.Is(err, app.ErrNoSuchMAK) {
			v.ErrorText = ""
		}
		h.render(c, http.StatusUnprocessableEntity, v)
	default:
		h.fail(c, err)
	}
}

func (h keysPage) verificationForm(c *gin.Context) {
	d, err := h.k.VerificationForm(c.Request.Context(), h.user(c), authz.LicenceID(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.ui.render(c, http.StatusOK, "verification_form.html", "licences", d)
}

// activationsView is the data of activations.html.
type activationsView struct {
	Requests []app.ActivationView
	Notice   string // message ID
	ErrorID  string // message ID of a refused decision
	ErrorFor int64  // the request it belongs to
}

func (h keysPage) operator(c *gin.Context) (int64, bool) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return 0, false
	}
	if h.isOperator == nil || !h.isOperator(user) {
		h.ui.errorPage(c, http.StatusForbidden, "operator.only")
		return 0, false
	}
	return user, true
}

func (h keysPage) queue(c *gin.Context) {
	v := activationsView{}
	switch c.Query("done") {
	case "approved":
		v.Notice = "activations.notice.approved"
	case "denied":
		v.Notice = "activations.notice.denied"
	}
	h.renderQueue(c, http.StatusOK, v)
}

func (h keysPage) renderQueue(c *gin.Context, status int, v activationsView) {
	op, ok := h.operator(c)
	if !ok {
		return
	}
	list, err := h.k.PendingActivations(c.Request.Context(), op)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Requests = list
	h.ui.render(c, status, "activations.html", "activations", v)
}

func (h keysPage) decide(c *gin.Context) {
	op, ok := h.operator(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	decision := c.Param("decision")
	if err != nil || (decision != "approve" && decision != "deny") {
		h.ui.NotFound(c)
		return
	}
	msg := c.PostForm("message")
	if decision == "approve" {
		err = h.k.ApproveActivations(c.Request.Context(), op, id, msg)
	} else {
		err = h.k.DenyActivations(c.Request.Context(), op, id, msg)
	}
	switch code := models.ErrorCode(err); {
	case err == nil:
		done := "approved"
		if decision == "deny" {
			done = "denied"
		}
		c.Redirect(http.StatusSeeOther, "/operator/activations?done="+done)
	case code == models.CodeConflict:
		h.renderQueue(c, http.StatusConflict, activationsView{ErrorID: "activations.error.decided", ErrorFor: id})
	case code == models.CodeNotFound:
		h.renderQueue(c, http.StatusNotFound, activationsView{ErrorID: "activations.error.not_found", ErrorFor: id})
	case code == models.CodeInvalid:
		h.renderQueue(c, http.StatusUnprocessableEntity, activationsView{ErrorID: "activations.error.message", ErrorFor: id})
	default:
		h.fail(c, err)
	}
}
