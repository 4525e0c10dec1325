package activation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ActivatePath is the online activation endpoint, under the service's base URL.
const ActivatePath = "/activation/v1/activate"

// Request is an online activation request.
type Request struct {
	Key        string   `json:"key"`
	Product    string   `json:"product"`
	Components Identity `json:"components"`
}

// Client talks to an OpenLSC activation service.
type Client struct {
	BaseURL string       // e.g. "https://lsc.example.com"
	HTTP    *http.Client // http.DefaultClient when nil
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Activate activates key for product on the machine id. A refusal is an
// *Error with a stable Code.
func (c *Client) Activate(ctx context.Context, key, product string, id Identity) (*Certificate, error) {
	body, err := json.Marshal(Request{Key: key, Product: product, Components: id})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+ActivatePath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e Error
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			return nil, fmt.Errorf("activation: %s", resp.Status)
		}
		return nil, &e
	}
	var cert Certificate
	if err := json.Unmarshal(b, &cert); err != nil {
		return nil, fmt.Errorf("activation: bad answer: %w", err)
	}
	return &cert, nil
}

// Keys fetches the published verification keys. Software stores them to
// verify certificates offline, and fetches them again on an unknown key id.
func (c *Client) Keys(ctx context.Context) (KeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.BaseURL, "/")+WellKnownPath, nil)
	if err != nil {
		return KeySet{}, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return KeySet{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return KeySet{}, fmt.Errorf("activation: keys: %s", resp.Status)
	}
	var ks KeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ks); err != nil {
		return KeySet{}, fmt.Errorf("activation: keys: %w", err)
	}
	return ks, nil
}

// ActivateVerified is what software does when it activates online:
// Activate, then fetch the published keys and verify the certificate for
// product and id. Software stores the certificate and the key set, and
// verifies the certificate again at every start without a network.
func (c *Client) ActivateVerified(ctx context.Context, key, product string, id Identity) (*Certificate, KeySet, *Claims, error) {
	cert, err := c.Activate(ctx, key, product, id)
	if err != nil {
		return nil, KeySet{}, nil, err
	}
	keys, err := c.Keys(ctx)
	if err != nil {
		return nil, KeySet{}, nil, err
	}
	claims, err := keys.VerifyFor(cert, product, id)
	if err != nil {
		return nil, KeySet{}, nil, err
	}
	return cert, keys, claims, nil
}
