package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// limiter allows each key (a client address or a user) a rate of events
// with a burst, forgetting keys unused for a while.
type limiter struct {
	mu     sync.Mutex
	every  time.Duration
	burst  int
	keys   map[string]*limited
	swept  time.Time
	now    func() time.Time
	maxAge time.Duration
}

type limited struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(every time.Duration, burst int) *limiter {
	return &limiter{every: every, burst: burst, keys: map[string]*limited{}, now: time.Now, maxAge: 10 * time.Minute}
}

// allow reports whether key may act now.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > l.maxAge {
		for k, v := range l.keys {
			if now.Sub(v.seen) > l.maxAge {
				delete(l.keys, k)
			}
		}
		l.swept = now
	}
	e := l.keys[key]
	if e == nil {
		e = &limited{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// rateLimit refuses requests over the limit per client address with 429.
func (s *Server) rateLimit(l *limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !l.allow(c.ClientIP()) {
			c.Header("Retry-After", "60")
			writeProblem(c, Problem{Type: "about:blank", Title: http.StatusText(http.StatusTooManyRequests),
				Status: http.StatusTooManyRequests, Detail: "Too many attempts. Wait a minute and try again.", RequestID: RequestID(c)})
			return
		}
		c.Next()
	}
}
