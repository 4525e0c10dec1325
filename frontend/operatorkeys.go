package frontend

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// OperatorKeysUseCases is what the operators' key page asks of the
// application (*app.Keys).
type OperatorKeysUseCases interface {
	OperatorKeys(ctx context.Context, op int64, licence string) ([]app.KeyView, error)
	SetKeyStatus(ctx context.Context, op, keyID int64, in app.KeyStatusInput) (*app.KeyStatusResult, error)
}

var _ OperatorKeysUseCases = (*app.Keys)(nil)

// MountOperatorKeys registers the operators' key lifecycle page:
//
//	GET  /operator/keys[?licence=N]      find a licence; its keys with their status
//	POST /operator/keys/:key/status      block, retire or reactivate a key, optionally with its replacement
//
// isOperator tells operators (such as (*authz.Authorizer).IsOperator); the
// application checks again.
func (u *UI) MountOperatorKeys(r gin.IRouter, k OperatorKeysUseCases, isOperator func(int64) bool) {
	h := operatorKeysPage{ui: u, k: k, isOperator: isOperator}
	r.GET("/operator/keys", u.page(h.show))
	r.POST("/operator/keys/:key/status", h.change)
}

type operatorKeysPage struct {
	ui         *UI
	k          OperatorKeysUseCases
	isOperator func(int64) bool
}

// operatorKeysView is the data of operator_keys.html.
type operatorKeysView struct {
	Licence     string
	Keys        []app.KeyView
	Statuses    []models.KeyStatus
	Reasons     []models.BlockReason
	Done        string // suffix of the key just changed
	Replacement string // suffix of its replacement, if any
	ErrorText   string
	FormKey     int64 // the key whose form is echoed after an error
	Note        string
	FormStatus  string
	FormReason  string
	NotFound    bool
}

func (h operatorKeysPage) show(c *gin.Context) {
	v := operatorKeysView{
		Licence: cutString(strings.TrimSpace(c.Query("licence")), 64),
		Done:    cutString(c.Query("done"), 5), Replacement: cutString(c.Query("replacement"), 5),
	}
	h.render(c, http.StatusOK, v)
}

func (h operatorKeysPage) render(c *gin.Context, status int, v operatorKeysView) {
	user, ok := h.ui.signedInOperator(c, h.isOperator)
	if !ok {
		return
	}
	v.Statuses = []models.KeyStatus{models.KeyBlocked, models.KeyRetired, models.KeyActive}
	v.Reasons = []models.BlockReason{models.BlockLeaked, models.BlockFraud, models.BlockReplaced}
	if v.Licence != "" {
		keys, err := h.k.OperatorKeys(c.Request.Context(), user, v.Licence)
		switch {
		case models.ErrorCode(err) == models.CodeNotFound:
			v.NotFound = true
		case err != nil:
			h.ui.Error(c, httperr.Status(err), err)
			return
		}
		v.Keys = keys
	}
	h.ui.render(c, status, "operator_keys.html", "operator-keys", v)
}

func (h operatorKeysPage) change(c *gin.Context) {
	user, ok := h.ui.signedInOperator(c, h.isOperator)
	if !ok {
		return
	}
	licence := cutString(strings.TrimSpace(c.PostForm("licence")), 64)
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		h.ui.Error(c, http.StatusNotFound, app.ErrNoSuchKey)
		return
	}
	in := app.KeyStatusInput{
		Status: models.KeyStatus(c.PostForm("status")), Reason: models.BlockReason(c.PostForm("reason")),
		Note: c.PostForm("note"), ReplacementKey: c.PostForm("replacement_key"),
	}
	res, err := h.k.SetKeyStatus(c.Request.Context(), user, id, in)
	code := models.ErrorCode(err)
	if err != nil && code != models.CodeInvalid && code != models.CodeConflict {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	if err != nil {
		v := operatorKeysView{Licence: licence, ErrorText: models.ErrorMessage(err), FormKey: id,
			Note: in.Note, FormStatus: string(in.Status), FormReason: string(in.Reason)}
		h.render(c, httperr.Status(err), v)
		return
	}
	q := url.Values{"licence": {licence}, "done": {res.Key.Suffix}}
	if res.Replacement != nil {
		q.Set("replacement", res.Replacement.Suffix)
	}
	c.Redirect(http.StatusSeeOther, "/operator/keys?"+q.Encode())
}
