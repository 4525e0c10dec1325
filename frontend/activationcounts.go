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

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// ActivationCounter is what the operators' activation counts page asks of
// the application (*app.Keys).
type ActivationCounter interface {
	List(ctx context.Context, user, licence int64) ([]app.KeyView, error)
	SetActivationCounts(ctx context.Context, op, keyID int64, used, limit *int64, asOf time.Time) (*app.KeyView, error)
}

// LicenceNumbers finds a licence by its number (*models.Store).
type LicenceNumbers interface {
	AgreementID(ctx context.Context, number string) (int64, error)
}

// MountActivationCounts registers the operators' correction of MAK
// activation counts: GET /operator/activation-counts?licence=N lists the
// licence's MAKs, each with a form that POSTs to
// /operator/activation-counts/:key the counts the activation service
// reports. isOperator keeps other users out (the application checks
// again).
func (u *UI) MountActivationCounts(r gin.IRouter, k ActivationCounter, licences LicenceNumbers, isOperator func(int64) bool) {
	h := countsPage{ui: u, k: k, licences: licences, isOperator: isOperator}
	r.GET("/operator/activation-counts", u.page(h.show))
	r.POST("/operator/activation-counts/:key", h.set)
}

type countsPage struct {
	ui         *UI
	k          ActivationCounter
	licences   LicenceNumbers
	isOperator func(int64) bool
}

// countsView is the data of activation_counts.html.
type countsView struct {
	Licence  string
	NotFound bool
	Keys     []app.KeyView
	Saved    string // suffix of the key just corrected
	ErrorKey int64  // the key whose form is in error
	Errors   []models.FieldError
}

func (h countsPage) show(c *gin.Context) {
	user, ok := h.ui.signedInOperator(c, h.isOperator)
	if !ok {
		return
	}
	h.render(c, user, http.StatusOK, countsView{Licence: strings.TrimSpace(c.Query("licence")), Saved: c.Query("saved")})
}

// render lists the MAKs of v.Licence, if any, and renders the page.
func (h countsPage) render(c *gin.Context, user int64, status int, v countsView) {
	if v.Licence != "" {
		id, err := h.licences.AgreementID(c.Request.Context(), v.Licence)
		if err == nil {
			var keys []app.KeyView
			keys, err = h.k.List(c.Request.Context(), user, id)
			for _, k := range keys {
				if k.MAK() {
					v.Keys = append(v.Keys, k)
				}
			}
		}
		switch {
		case models.ErrorCode(err) == models.CodeNotFound:
			v.NotFound = true
		case err != nil:
			h.ui.Error(c, api.StatusOf(models.ErrorCode(err)), err)
			return
		}
	}
	h.ui.render(c, status, "activation_counts.html", "activation-counts", v)
}

func (h countsPage) set(c *gin.Context) {
	user, ok := h.ui.signedInOperator(c, h.isOperator)
	if !ok {
		return
	}
	licence := strings.TrimSpace(c.PostForm("licence"))
	keyID, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		h.ui.Error(c, http.StatusNotFound, models.Errorf(models.CodeNotFound, "No such product key."))
		return
	}
	used, errUsed := optionalCount(c.PostForm("activations_used"))
	limit, errLimit := optionalCount(c.PostForm("activation_limit"))
	var fields []models.FieldError
	if errUsed != nil {
		fields = append(fields, models.FieldError{Field: "activations_used", Message: "a whole number"})
	}
	if errLimit != nil {
		fields = append(fields, models.FieldError{Field: "activation_limit", Message: "a whole number"})
	}
	var view *app.KeyView
	if len(fields) == 0 {
		view, err = h.k.SetActivationCounts(c.Request.Context(), user, keyID, used, limit, time.Time{})
	}
	var e *models.Error
	switch {
	case len(fields) > 0:
		h.render(c, user, http.StatusUnprocessableEntity, countsView{Licence: licence, ErrorKey: keyID, Errors: fields})
	case errors.As(err, &e) && e.Code == models.CodeInvalid:
		h.render(c, user, http.StatusUnprocessableEntity, countsView{Licence: licence, ErrorKey: keyID, Errors: e.Fields})
	case err != nil:
		h.ui.Error(c, api.StatusOf(models.ErrorCode(err)), err)
	default:
		q := url.Values{"licence": {licence}, "saved": {view.Suffix}}
		c.Redirect(http.StatusSeeOther, "/operator/activation-counts?"+q.Encode())
	}
}

// optionalCount parses a count field: nil when empty.
func optionalCount(s string) (*int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, err
	}
	return &n, nil
}
