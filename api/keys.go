package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// MountKeys registers the product key, activation request and
// verification form routes on v1, normally the /api/v1 group:
//
//	GET  /licences/{licence}/keys                              masked keys with MAK activation counts (read_keys)
//	POST /licences/{licence}/keys/{key}/reveal                 {"key": "…"}, audited (read_keys)
//	GET  /licences/{licence}/keys.csv[?reveal=true]            CSV export; revealing is audited (read_keys)
//	POST /licences/{licence}/activation-requests               {"key_suffix", "quantity", "reason"} (read_keys)
//	GET  /licences/{licence}/verification-form                 the base-licence verification form's data (view)
//	GET  /me/activation-requests                               the user's own activation requests
//	GET  /operator/activation-requests                         the operators' queue
//	POST /operator/activation-requests/{id}/approve|deny       {"message"}
//	PUT  /operator/keys/{key}/activations                      {"activations_used", "activation_limit", "as_of"}
//	and the key lifecycle routes of mountKeyLifecycle.
//
// guard decides who the user is (guard.User, also for the routes without
// a licence) and lets only users holding the permission on the licence
// through; everyone else is told the licence does not exist. A guard
// without Fail answers with WriteError.
func MountKeys(v1 gin.IRouter, k *app.Keys, guard authz.Guard) {
	if guard.Fail == nil {
		guard.Fail = WriteError
	}
	h := keysHandler{k: k, guard: guard}
	keys := v1.Group("/licences/:licence", guard.Require(authz.ActReadKeys, "licence"))
	keys.GET("/keys", h.list)
	keys.GET("/keys.csv", h.csv)
	keys.POST("/keys/:key/reveal", h.reveal)
	keys.POST("/activation-requests", h.request)
	v1.GET("/licences/:licence/verification-form", guard.Require(authz.ActView, "licence"), h.verificationForm)
	v1.GET("/me/activation-requests", h.mine)
	v1.GET("/operator/activation-requests", h.pending)
	v1.POST("/operator/activation-requests/:id/approve", func(c *gin.Context) { h.decide(c, true) })
	v1.POST("/operator/activation-requests/:id/deny", func(c *gin.Context) { h.decide(c, false) })
	v1.PUT("/operator/keys/:key/activations", h.counts)
	mountKeyLifecycle(v1, h)
}

type keysHandler struct {
	k     *app.Keys
	guard authz.Guard
}

// user returns the request's user as the guard knows them, or answers.
func (h keysHandler) user(c *gin.Context) (int64, bool) {
	user, ok := h.guard.User(c)
	if !ok {
		if err := authz.UserError(c); err != nil {
			h.guard.Fail(c, err)
		} else if _, signedIn := app.UserID(c.Request.Context()); signedIn {
			h.guard.Fail(c, app.ErrConfirmWorkEmail)
		} else {
			writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusUnauthorized),
				Status: http.StatusUnauthorized, Detail: "Sign in first.", RequestID: RequestID(c)})
		}
		c.Abort()
	}
	return user, ok
}

func (h keysHandler) list(c *gin.Context) {
	user, _ := h.guard.User(c)
	q, err := app.ParseKeyQuery(c.Query("after"), c.Query("limit"))
	var page app.KeyPage
	if err == nil {
		page, err = h.k.ListPage(c.Request.Context(), user, authz.LicenceID(c), q)
	}
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, page)
}

func (h keysHandler) reveal(c *gin.Context) {
	user, _ := h.guard.User(c)
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		h.guard.Fail(c, app.ErrNoSuchKey)
		return
	}
	key, err := h.k.Reveal(c.Request.Context(), user, authz.LicenceID(c), id, c.ClientIP())
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"key": key})
}

func (h keysHandler) csv(c *gin.Context) {
	user, _ := h.guard.User(c)
	reveal := false
	switch c.Query("reveal") {
	case "", "false":
	case "true":
		reveal = true
	default:
		h.guard.Fail(c, models.Invalid("Check the export.", models.FieldError{Field: "reveal", Message: `"true" or "false"`}))
		return
	}
	// A licence has few keys: the export is built whole, so that any error
	// is still answered as a problem.
	var buf bytes.Buffer
	if err := h.k.WriteCSV(c.Request.Context(), user, authz.LicenceID(c), reveal, c.ClientIP(), &buf); err != nil {
		h.guard.Fail(c, err)
		return
	}
	name := "openlsc-keys.csv"
	if reveal {
		name = "openlsc-keys-revealed.csv"
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (h keysHandler) request(c *gin.Context) {
	user, _ := h.guard.User(c)
	var body struct {
		KeySuffix string `json:"key_suffix"`
		Quantity  int64  `json:"quantity"`
		Reason    string `json:"reason"`
	}
	if !decodeJSON(c, &body) {
		return
	}
	v, err := h.k.RequestActivations(c.Request.Context(), user, authz.LicenceID(c), body.KeySuffix, body.Quantity, body.Reason)
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h keysHandler) verificationForm(c *gin.Context) {
	user, _ := h.guard.User(c)
	d, err := h.k.VerificationForm(c.Request.Context(), user, authz.LicenceID(c))
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (h keysHandler) mine(c *gin.Context) {
	user, ok := h.user(c)
	if !ok {
		return
	}
	list, err := h.k.MyActivationRequests(c.Request.Context(), user)
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"activation_requests": list})
}

func (h keysHandler) pending(c *gin.Context) {
	user, ok := h.user(c)
	if !ok {
		return
	}
	list, err := h.k.PendingActivations(c.Request.Context(), user)
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"activation_requests": list})
}

func (h keysHandler) decide(c *gin.Context, approve bool) {
	user, ok := h.user(c)
	if !ok {
		return
	}
	var body struct {
		Message string `json:"message"`
	}
	if c.Request.ContentLength != 0 && !decodeJSON(c, &body) {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.guard.Fail(c, models.Errorf(models.CodeNotFound, "No such activation request."))
		return
	}
	if approve {
		err = h.k.ApproveActivations(c.Request.Context(), user, id, body.Message)
	} else {
		err = h.k.DenyActivations(c.Request.Context(), user, id, body.Message)
	}
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h keysHandler) counts(c *gin.Context) {
	user, ok := h.user(c)
	if !ok {
		return
	}
	var body struct {
		Used  *int64     `json:"activations_used"`
		Limit *int64     `json:"activation_limit"`
		AsOf  *time.Time `json:"as_of"`
	}
	if !decodeJSON(c, &body) {
		return
	}
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		h.guard.Fail(c, models.Errorf(models.CodeNotFound, "No such product key."))
		return
	}
	var asOf time.Time
	if body.AsOf != nil {
		asOf = *body.AsOf
	}
	v, err := h.k.SetActivationCounts(c.Request.Context(), user, id, body.Used, body.Limit, asOf)
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
