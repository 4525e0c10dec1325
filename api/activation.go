package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// activationHandler serves the vendor's software: no user session, the
// product key itself authenticates a request.
type activationHandler struct {
	a       *app.Activations
	limiter interface {
		Allow(keys ...string) (bool, time.Duration)
	}
}

// mountActivation registers the activation service's public routes:
//
//	POST /activation/v1/activate                  {"key", "product", "components"} → a signed certificate
//	GET  /.well-known/openlsc-activation-keys     the public keys that sign certificates
func (s *Server) mountActivation(e *gin.Engine) {
	h := activationHandler{a: s.opts.Activations, limiter: s.limits.Activation}
	e.POST("/activation/v1/activate", h.activate)
	e.GET("/.well-known/openlsc-activation-keys", h.keys)
}

// activationStatus is the HTTP status of each refusal code.
var activationStatus = map[string]int{
	activation.CodeUnknownKey:       http.StatusNotFound,
	activation.CodeKeyBlocked:       http.StatusForbidden,
	activation.CodeLimitReached:     http.StatusConflict,
	activation.CodeProductMismatch:  http.StatusUnprocessableEntity,
	activation.CodeAgreementExpired: http.StatusForbidden,
	activation.CodeInvalidRequest:   http.StatusBadRequest,
	activation.CodeRateLimited:      http.StatusTooManyRequests,
}

func (h activationHandler) refuse(c *gin.Context, e *activation.Error) {
	c.Header("Cache-Control", "no-store")
	c.JSON(activationStatus[e.Code], e)
}

func (h activationHandler) activate(c *gin.Context) {
	var req activation.Request
	dec := json.NewDecoder(c.Request.Body)
	if err := dec.Decode(&req); err != nil {
		h.refuse(c, &activation.Error{Code: activation.CodeInvalidRequest, Message: "Send a JSON object with key, product and components."})
		return
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(req.Key)))
	if ok, wait := h.limiter.Allow("ip:"+c.ClientIP(), "activation-key:"+hex.EncodeToString(sum[:16])); !ok {
		limits.RetryAfter(c, wait)
		h.refuse(c, &activation.Error{Code: activation.CodeRateLimited, Message: "Too many activations. Wait a while and try again."})
		return
	}
	cert, err := h.a.Activate(c.Request.Context(), app.ActivationInput{Request: req, ClientIP: c.ClientIP()})
	var refused *activation.Error
	if errors.As(err, &refused) {
		h.refuse(c, refused)
		return
	}
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, cert)
}

func (h activationHandler) keys(c *gin.Context) {
	ks, err := h.a.PublicKeys(c.Request.Context())
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, ks)
}

// MountInstallations registers, on v1 (the /api/v1 group), the routes of
// a key's installations:
//
//	GET    /licences/{licence}/keys/{key}/installations          first and last seen, network (read_keys)
//	DELETE /licences/{licence}/keys/{key}/installations/{id}     release, freeing its activation (manage or operator), audited
//	POST   /licences/{licence}/keys/{key}/offline-activations    {"installation_id"} → {"confirmation_id"} (read_keys), audited
//	POST   /operator/keys/{key}/offline-activations              the same for an operator on the phone, any licence, audited
//	GET    /operator/leaked-keys                                 keys flagged as leaked, with the evidence (operators)
//
// Telephone activations pass limited (the activation rate limit, which
// the telephone activation pages draw on too) after the caller is
// authorised and before the body is read.
func MountInstallations(v1 gin.IRouter, a *app.Activations, guard authz.Guard, limited gin.HandlerFunc) {
	if guard.Fail == nil {
		guard.Fail = WriteError
	}
	g := v1.Group("/licences/:licence/keys/:key", guard.Require(authz.ActReadKeys, "licence"))
	g.GET("/installations", func(c *gin.Context) {
		user, _ := guard.User(c)
		key, err := strconv.ParseInt(c.Param("key"), 10, 64)
		if err != nil {
			guard.Fail(c, app.ErrNoSuchKey)
			return
		}
		list, err := a.Installations(c.Request.Context(), user, authz.LicenceID(c), key)
		if err != nil {
			guard.Fail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"installations": list})
	})
	g.POST("/offline-activations", limited, func(c *gin.Context) {
		offlineActivate(c, guard, func(user, key int64, in app.OfflineInput) (string, error) {
			return a.OfflineActivate(c.Request.Context(), user, authz.LicenceID(c), key, in)
		})
	})
	v1.POST("/operator/keys/:key/offline-activations", requireActiveOperator(guard), limited, func(c *gin.Context) {
		offlineActivate(c, guard, func(user, key int64, in app.OfflineInput) (string, error) {
			return a.OperatorOfflineActivate(c.Request.Context(), user, key, in)
		})
	})
	v1.GET("/operator/leaked-keys", func(c *gin.Context) {
		user, ok := guard.User(c)
		if !ok {
			guard.Fail(c, app.ErrOperatorsOnly)
			return
		}
		list, err := a.LeakedKeys(c.Request.Context(), user)
		if err != nil {
			guard.Fail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"keys": list})
	})
	g.DELETE("/installations/:id", func(c *gin.Context) {
		user, _ := guard.User(c)
		key, err1 := strconv.ParseInt(c.Param("key"), 10, 64)
		id, err2 := strconv.ParseInt(c.Param("id"), 10, 64)
		if err1 != nil || err2 != nil {
			guard.Fail(c, models.Errorf(models.CodeNotFound, "No such installation."))
			return
		}
		if err := a.ReleaseInstallation(c.Request.Context(), user, authz.LicenceID(c), key, id); err != nil {
			guard.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}

// requireActiveOperator answers ErrOperatorsOnly, the same for every key
// and without reading the body, unless the request's user is an operator
// whose work email is confirmed (Server.requireOperator, for the operators'
// desk, asks only the first); a database fault is answered as such.
func requireActiveOperator(guard authz.Guard) gin.HandlerFunc {
	return func(c *gin.Context) {
		user, ok := guard.User(c)
		if err := authz.UserError(c); !ok && err != nil {
			guard.Fail(c, err)
			c.Abort()
			return
		}
		if !ok || !guard.Authorizer.IsOperator(user) {
			guard.Fail(c, app.ErrOperatorsOnly)
			c.Abort()
			return
		}
		c.Next()
	}
}

// offlineActivate reads a telephone activation's installation ID and
// answers the confirmation ID that activate returns for it.
func offlineActivate(c *gin.Context, guard authz.Guard, activate func(user, key int64, in app.OfflineInput) (string, error)) {
	user, _ := guard.User(c)
	key, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		guard.Fail(c, app.ErrNoSuchKey)
		return
	}
	var body struct {
		InstallationID string `json:"installation_id"`
	}
	if err := c.ShouldBindJSON(&body); err != nil {
		guard.Fail(c, models.Invalid("Send {\"installation_id\": \"…\"}."))
		return
	}
	cid, err := activate(user, key, app.OfflineInput{InstallationID: body.InstallationID, Source: c.ClientIP()})
	var refused *activation.Error
	if errors.As(err, &refused) {
		c.Header("Cache-Control", "no-store")
		c.JSON(activationStatus[refused.Code], refused)
		return
	}
	if err != nil {
		guard.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"confirmation_id": cid})
}
