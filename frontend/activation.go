package frontend

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// ActivationUseCases is what the installations, telephone activation and
// leaked keys pages ask of the application (*app.Activations).
type ActivationUseCases interface {
	Installations(ctx context.Context, user, licence, keyID int64) ([]models.Installation, error)
	ReleaseInstallation(ctx context.Context, user, licence, keyID, inst int64) error
	OfflineActivate(ctx context.Context, user, licence, keyID int64, in app.OfflineInput) (string, error)
	LeakedKeys(ctx context.Context, op int64) ([]app.LeakedKey, error)
	LeakSpan(ctx context.Context, op, keyID int64) (first, last time.Time, err error)
}

var _ ActivationUseCases = (*app.Activations)(nil)

// ActivationKeys finds the MAK a page is about, with its live counts
// (*app.Keys): MAK for the licence's key readers, OperatorMAK for
// operators, who name the licence by its number.
type ActivationKeys interface {
	MAK(ctx context.Context, user, licence, keyID int64) (app.KeyView, error)
	OperatorMAK(ctx context.Context, op int64, licence string, keyID int64) (int64, app.KeyView, error)
}

// ActivationAccess tells who sees what on the activation pages (the
// application checks again): CanRelease whether user may release
// installations of licence (its administrators and the operators),
// and IsOperator whether user is an operator.
type ActivationAccess struct {
	CanRelease func(user, licence int64) bool
	IsOperator func(user int64) bool
}

// MountActivation registers the pages of the activation service:
//
//	GET  /licences/:licence/keys/:key/installations[?release=ID]     live count, installations; confirm a release (read_keys)
//	POST /licences/:licence/keys/:key/installations/:id/release      release one, freeing its activation (administrators), audited
//	GET  /licences/:licence/keys/:key/telephone-activation           enter an installation ID (read_keys)
//	POST /licences/:licence/keys/:key/telephone-activation           get the confirmation ID
//	GET  /operator/keys/:key/installations?licence=N                 the same two pages, for an operator
//	POST /operator/keys/:key/installations/:id/release?licence=N
//	GET  /operator/keys/:key/telephone-activation?licence=N          the same, for an operator on the phone
//	POST /operator/keys/:key/telephone-activation
//	GET  /operator/leaked-keys                                       keys flagged as leaked, with the evidence
//
// guard lets only key readers of the licence through (others get the page
// of an unknown licence). The form posts draw on the activation rate limit.
func (u *UI) MountActivation(r gin.IRouter, a ActivationUseCases, k ActivationKeys, guard authz.Guard, access ActivationAccess) {
	if guard.Fail == nil {
		guard.Fail = u.guardFail
	}
	h := activationPages{ui: u, a: a, k: k, access: access}
	limit := u.limit(u.limits.Activation)
	g := r.Group("/licences/:licence/keys/:key", guard.Require(authz.ActReadKeys, "licence"))
	g.GET("/installations", u.page(h.installations))
	g.POST("/installations/:id/release", limit, h.release)
	g.GET("/telephone-activation", u.page(h.telephoneForm))
	g.POST("/telephone-activation", limit, h.telephone)
	r.GET("/operator/keys/:key/installations", u.page(h.installations))
	r.POST("/operator/keys/:key/installations/:id/release", limit, h.release)
	r.GET("/operator/keys/:key/telephone-activation", u.page(h.telephoneForm))
	r.POST("/operator/keys/:key/telephone-activation", limit, h.telephone)
	r.GET("/operator/leaked-keys", u.page(h.leaked))
}

type activationPages struct {
	ui     *UI
	a      ActivationUseCases
	k      ActivationKeys
	access ActivationAccess
}

// keyPage is who asks about which key: the licence's key reader, or an
// operator (Operator) who named the licence.
type keyPage struct {
	User     int64
	Operator bool
	Licence  string // its number, as in the URL
	LicID    int64
	Key      app.KeyView
}

// keyURL is page (with "/" and sub-path ahead) of the key for this visitor:
// under /operator, the licence goes in the query.
func (p keyPage) keyURL(page string) string {
	if p.Operator {
		return "/operator/keys/" + strconv.FormatInt(p.Key.ID, 10) + page + "?" + url.Values{"licence": {p.Licence}}.Encode()
	}
	return "/licences/" + url.PathEscape(p.Licence) + "/keys/" + strconv.FormatInt(p.Key.ID, 10) + page
}

// telephoneURL is the key's telephone activation page for this visitor.
func (p keyPage) telephoneURL() string { return p.keyURL("/telephone-activation") }

// InstallationsURL is the key's installations page for this visitor.
func (p keyPage) InstallationsURL() string { return p.keyURL("/installations") }

// ReleaseURL is where the release of installation id posts.
func (p keyPage) ReleaseURL(id int64) string {
	return p.keyURL("/installations/" + strconv.FormatInt(id, 10) + "/release")
}

// ConfirmURL is the installations page asking to confirm the release of id.
func (p keyPage) ConfirmURL(id int64) string {
	return p.InstallationsURL() + sep(p.Operator) + "release=" + strconv.FormatInt(id, 10) + "#confirm-heading"
}

// sep joins one more query parameter to a URL that has a query when hasQuery.
func sep(hasQuery bool) string {
	if hasQuery {
		return "&"
	}
	return "?"
}

// nav is the navigation entry of the visitor's page.
func (p keyPage) nav() string {
	if p.Operator {
		return "operator-keys"
	}
	return "licences"
}

// fail answers err: an unknown licence or key is the page of an unknown
// licence, whatever the reason.
func (h activationPages) fail(c *gin.Context, err error) {
	if errors.Is(err, authz.ErrNoSuchLicence) || errors.Is(err, app.ErrNoSuchKey) {
		h.ui.errorPage(c, http.StatusNotFound, "users.no_such_licence")
		return
	}
	h.ui.Error(c, httperr.Status(err), err)
}

// key finds the MAK of the request and who asks: under /operator an
// operator naming the licence (?licence=, also in the form's action), else the
// key reader the guard let through. It answers the request and reports
// false when there is no such key.
func (h activationPages) key(c *gin.Context) (keyPage, bool) {
	ctx := c.Request.Context()
	var p keyPage
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		err = app.ErrNoSuchKey
	}
	if strings.HasPrefix(c.FullPath(), "/operator/") {
		user, ok := h.ui.signedInOperator(c, h.access.IsOperator)
		if !ok {
			return p, false
		}
		p = keyPage{User: user, Operator: true, Licence: cutString(strings.TrimSpace(c.Query("licence")), 64)}
		if err == nil {
			p.LicID, p.Key, err = h.k.OperatorMAK(ctx, user, p.Licence, id)
		}
	} else {
		p.User, _ = app.UserID(ctx)
		p.Licence, p.LicID = c.Param("licence"), authz.LicenceID(c)
		if err == nil {
			p.Key, err = h.k.MAK(ctx, p.User, p.LicID, id)
		}
	}
	if err != nil {
		h.fail(c, err)
		return p, false
	}
	return p, true
}

// installationsView is the data of installations.html.
type installationsView struct {
	keyPage
	Installations []models.Installation
	CanRelease    bool
	Confirm       *models.Installation // the installation whose release is being confirmed
	Released      bool
	TelephoneURL  string
}

func (h activationPages) installations(c *gin.Context) {
	p, ok := h.key(c)
	if !ok {
		return
	}
	list, err := h.a.Installations(c.Request.Context(), p.User, p.LicID, p.Key.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := installationsView{keyPage: p, Installations: list, Released: c.Query("released") == "1", TelephoneURL: p.telephoneURL()}
	v.CanRelease = h.access.CanRelease(p.User, p.LicID)
	if want, err := strconv.ParseInt(c.Query("release"), 10, 64); err == nil && v.CanRelease {
		for i := range list {
			if list[i].ID == want {
				v.Confirm = &list[i]
			}
		}
	}
	c.Header("Cache-Control", "no-store")
	h.ui.render(c, http.StatusOK, "installations.html", p.nav(), v)
}

func (h activationPages) release(c *gin.Context) {
	inst, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.fail(c, app.ErrNoSuchKey)
		return
	}
	p, ok := h.key(c)
	if !ok {
		return
	}
	if err := h.a.ReleaseInstallation(c.Request.Context(), p.User, p.LicID, p.Key.ID, inst); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, p.InstallationsURL()+sep(p.Operator)+"released=1#installations-heading")
}

// telephoneView is the data of telephone_activation.html.
type telephoneView struct {
	keyPage
	Action         string // where the form posts
	BackURL        string
	InstallationID string // as typed
	Confirmation   []string
	ErrorID        string // message ID of what went wrong
	HResult        string // the Windows activation code of a refusal
}

// refusalIDs are the message IDs of the activation refusals.
var refusalIDs = map[string]string{
	activation.CodeKeyBlocked:       "telephone.refused.key_blocked",
	activation.CodeLimitReached:     "telephone.refused.limit_reached",
	activation.CodeProductMismatch:  "telephone.refused.product_mismatch",
	activation.CodeAgreementExpired: "telephone.refused.agreement_expired",
	activation.CodeUnknownKey:       "telephone.refused.unknown_key",
	activation.CodeInvalidRequest:   "telephone.error.installation_id",
}

func (h activationPages) telephoneView(p keyPage) telephoneView {
	v := telephoneView{keyPage: p, Action: p.telephoneURL()}
	v.BackURL = p.InstallationsURL()
	if p.Operator {
		v.BackURL = "/operator/keys?" + url.Values{"licence": {p.Licence}}.Encode() + "#key-" + strconv.FormatInt(p.Key.ID, 10)
	}
	return v
}

func (h activationPages) telephoneForm(c *gin.Context) {
	p, ok := h.key(c)
	if !ok {
		return
	}
	h.ui.render(c, http.StatusOK, "telephone_activation.html", p.nav(), h.telephoneView(p))
}

func (h activationPages) telephone(c *gin.Context) {
	p, ok := h.key(c)
	if !ok {
		return
	}
	v := h.telephoneView(p)
	v.InstallationID = cutString(c.PostForm("installation_id"), 400)
	cid, err := h.a.OfflineActivate(c.Request.Context(), p.User, p.LicID, p.Key.ID,
		app.OfflineInput{InstallationID: v.InstallationID, Source: c.ClientIP()})
	var refused *activation.Error
	switch {
	case err == nil:
		v.Confirmation = strings.Split(cid, "-")
		c.Header("Cache-Control", "no-store")
		h.ui.render(c, http.StatusOK, "telephone_activation.html", p.nav(), v)
		return
	case errors.As(err, &refused):
		v.ErrorID, v.HResult = refusalIDs[refused.Code], refused.HResult
		if v.ErrorID == "" {
			v.ErrorID = "telephone.refused.other"
		}
	case models.ErrorCode(err) == models.CodeInvalid:
		v.ErrorID = "telephone.error.installation_id"
	default:
		h.fail(c, err)
		return
	}
	h.ui.render(c, http.StatusUnprocessableEntity, "telephone_activation.html", p.nav(), v)
}

// leakedView is the data of operator_leaks.html.
type leakedView struct {
	Keys []leakedKey
}

type leakedKey struct {
	app.LeakedKey
	NetworkList []string // the evidence: the networks seen
	KeysURL     string   // the operators' key page of its licence, at the key
	// When its installations in the window were first and last seen.
	FirstSeen, LastSeen time.Time
}

func (h activationPages) leaked(c *gin.Context) {
	op, ok := h.ui.signedInOperator(c, h.access.IsOperator)
	if !ok {
		return
	}
	list, err := h.a.LeakedKeys(c.Request.Context(), op)
	if err != nil {
		h.fail(c, err)
		return
	}
	var v leakedView
	for _, k := range list {
		row := leakedKey{LeakedKey: k, NetworkList: strings.Fields(k.Evidence),
			KeysURL: "/operator/keys?" + url.Values{"licence": {k.Licence}}.Encode() + "#key-" + strconv.FormatInt(k.KeyID, 10)}
		if row.FirstSeen, row.LastSeen, err = h.a.LeakSpan(c.Request.Context(), op, k.KeyID); err != nil {
			h.fail(c, err)
			return
		}
		v.Keys = append(v.Keys, row)
	}
	c.Header("Cache-Control", "no-store")
	h.ui.render(c, http.StatusOK, "operator_leaks.html", "leaked-keys", v)
}
