// Package limits holds the rate limits and request body limits that the
// JSON API and the web forms share, so that an action costs the same
// budget whichever door it comes through.
package limits

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Limiter allows each key (a client address, an account) a rate of events
// with a burst, forgetting keys unused for a while. It is safe for
// concurrent use.
type Limiter struct {
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

// New allows one event per every, after a burst of burst events.
func New(every time.Duration, burst int) *Limiter {
	return &Limiter{every: every, burst: burst, keys: map[string]*limited{}, now: time.Now,
		maxAge: max(10*time.Minute, every*time.Duration(burst))}
}

// Allow takes one event from every key when each of them has one left, and
// reports true; otherwise it takes none and reports how long until all of
// them have one again.
func (l *Limiter) Allow(keys ...string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	lims := make([]*rate.Limiter, len(keys))
	for i, k := range keys {
		e := l.keys[k]
		if e == nil {
			e = &limited{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
			l.keys[k] = e
		}
		e.seen = now
		lims[i] = e.lim
		if t := e.lim.TokensAt(now); t < 1 {
			retryAfter = max(retryAfter, time.Duration(math.Ceil((1-t)*float64(l.every))))
		}
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	for _, lim := range lims {
		lim.AllowN(now, 1)
	}
	return true, 0
}

func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) <= l.maxAge {
		return
	}
	for k, v := range l.keys {
		if now.Sub(v.seen) > l.maxAge {
			delete(l.keys, k)
		}
	}
	l.swept = now
}

// Set is every rate limit of the service. One Set is shared by the API and
// the web pages.
type Set struct {
	// SignIn bounds sign-in starts and callbacks, per client address.
	SignIn *Limiter
	// WorkEmail bounds confirmation mails (registering a work email), per
	// account and per client address.
	WorkEmail *Limiter
	// Verify bounds work email confirmation attempts, per account and per
	// client address.
	Verify *Limiter
	// AccessRequests bounds access requests filed (each mails the
	// licence's administrators), per account and per client address.
	AccessRequests *Limiter
	// Activation bounds online activations (no account: the product key
	// authenticates them), per product key and per client address.
	Activation *Limiter
}

// Defaults are the limits the service runs with.
func Defaults() *Set {
	return &Set{
		SignIn:         New(3*time.Second, 20),
		WorkEmail:      New(10*time.Minute, 5),
		Verify:         New(3*time.Second, 20),
		AccessRequests: New(20*time.Second, 30),
		Activation:     New(50*time.Millisecond, 200),
	}
}

// Keys are the budgets a request draws on: its client address and, when
// signed in, its account.
func Keys(c *gin.Context, user int64, signedIn bool) []string {
	keys := []string{"ip:" + c.ClientIP()}
	if signedIn {
		keys = append(keys, "user:"+strconv.FormatInt(user, 10))
	}
	return keys
}

// RetryAfter sets the Retry-After header to d, in whole seconds (at least 1).
func RetryAfter(c *gin.Context, d time.Duration) {
	c.Header("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10))
}

// DefaultBody is the body limit of a route that names none: enough for any
// JSON object or form the service takes.
const DefaultBody = 64 << 10

// Body limits every request body: to the limit routes names for the
// request's route ("POST /api/v1/operator/import"), else to DefaultBody.
// A request announcing a longer body is refused with refuse before any
// handler runs; a longer body sent without a length fails when read, with
// an *http.MaxBytesError.
func Body(routes map[string]int64, refuse func(c *gin.Context, err error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		n, ok := routes[c.Request.Method+" "+c.FullPath()]
		if !ok {
			n = DefaultBody
		}
		if c.Request.ContentLength > n {
			refuse(c, &http.MaxBytesError{Limit: n})
			c.Abort()
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}
