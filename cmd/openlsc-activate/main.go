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
	os.Exit(run(*url, *key, *product, activation.NewIdentity(parts)))
}

func run(url, key, product string, id activation.Identity) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &activation.Client{BaseURL: url}
	cert, _, claims, err := c.ActivateVerified(ctx, key, product, id)
	var refused *activation.Error
	if errors.As(err, &refused) {
		fmt.Fprintln(os.Stderr, "refused:", refused)
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out, _ := json.MarshalIndent(struct {
		Certificate *activation.Certificate `json:"certificate"`
		Claims      *activation.Claims      `json:"claims"`
	}{cert, claims}, "", "  ")
	fmt.Println(string(out))
	return 0
}
