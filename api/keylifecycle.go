package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// mountKeyLifecycle registers the operators' key lifecycle routes:
//
//	GET  /operator/licences/{licence}/keys   the licence's keys, masked, with their status
//	PUT  /operator/keys/{key}/status         {"status", "reason", "note", "replacement_key"}
//	POST /operator/keys/{key}/reveal         {"key": "…"} whatever the status, audited
func mountKeyLifecycle(v1 gin.IRouter, h keysHandler) {
	v1.GET("/operator/licences/:licence/keys", h.operatorKeys)
	v1.PUT("/operator/keys/:key/status", h.setStatus)
	v1.POST("/operator/keys/:key/reveal", h.operatorReveal)
}

var errNoSuchKeyID = models.Errorf(models.CodeNotFound, "No such product key.")

func (h keysHandler) operatorKeys(c *gin.Context) {
	user, ok := h.user(c)
	if !ok {
		return
	}
	list, err := h.k.OperatorKeys(c.Request.Context(), user, c.Param("licence"))
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"keys": list})
}

func (h keysHandler) setStatus(c *gin.Context) {
	user, ok := h.user(c)
	if !ok {
		return
	}
	var body app.KeyStatusInput
	if !decodeJSON(c, &body) {
		return
	}
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		h.guard.Fail(c, errNoSuchKeyID)
		return
	}
	res, err := h.k.SetKeyStatus(c.Request.Context(), user, id, body)
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (h keysHandler) operatorReveal(c *gin.Context) {
	user, ok := h.user(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		h.guard.Fail(c, errNoSuchKeyID)
		return
	}
	key, err := h.k.RevealForOperator(c.Request.Context(), user, id, c.ClientIP())
	if err != nil {
		h.guard.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"key": key})
}
