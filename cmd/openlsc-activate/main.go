// Command openlsc-activate is an example of the vendor's side of OpenLSC's
// activation service, built on package activation: it computes this
// machine's installation identity from the components given, activates a
// product key online, verifies the certificate against the published keys
// and prints its claims.
//
//	openlsc-activate -url http://localhost:8080 -key XXXXX-…-XXXXX -product win-ent \
//	    -component board=MB123 -component disk=S3Z9 -component mac=00:11:22:33:44:55
//
// A refusal prints its stable code (and the Windows code, where there is
// one) and exits with status 2.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/openlsc/openlsc/api/activation"
)

// components collects repeated -component kind=value flags.
type components map[string]string

func (c components) String() string { return fmt.Sprint(map[string]string(c)) }

func (c components) Set(v string) error {
	kind, value, ok := strings.Cut(v, "=")
	if !ok || kind == "" || value == "" {
		return errors.New("give kind=value, e.g. board=MB123")
	}
	c[kind] = value
	return nil
}

func main() {
	parts := components{}
	url := flag.String("url", "http://localhost:8080", "the OpenLSC base URL")
	key := flag.String("key", "", "the product key")
	product := flag.String("product", "", "the product code, e.g. win-ent")
	flag.Var(parts, "component", "a hardware component as kind=value (repeat)")
	flag.Parse()
	if *key == "" || *product == "" || len(parts) == 0 {
		flag.Usage()
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	code := run(ctx, &activation.Client{BaseURL: *url}, *key, *product, activation.NewIdentity(parts), os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// run activates key for product on the machine id through c, prints the
// verified certificate and its claims to stdout, and returns the exit
// status: 0, 2 for a refusal (its code on stderr), 1 for any other error.
func run(ctx context.Context, c *activation.Client, key, product string, id activation.Identity, stdout, stderr io.Writer) int {
	cert, _, claims, err := c.ActivateVerified(ctx, key, product, id)
	var refused *activation.Error
	if errors.As(err, &refused) {
		fmt.Fprintln(stderr, "refused:", refused)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	out, _ := json.MarshalIndent(struct {
		Certificate *activation.Certificate `json:"certificate"`
		Claims      *activation.Claims      `json:"claims"`
	}{cert, claims}, "", "  ")
	fmt.Fprintln(stdout, string(out))
	return 0
}
