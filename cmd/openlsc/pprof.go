package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// checkPprofAddr accepts OPENLSC_PPROF_ADDR only on a loopback address:
// the profiles show what the server does, so they are for an operator on
// the machine (or through an SSH tunnel), never for the network.
func checkPprofAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("OPENLSC_PPROF_ADDR=%q is not host:port: use e.g. 127.0.0.1:6060", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("OPENLSC_PPROF_ADDR=%q: profiling listens on a loopback address only, e.g. 127.0.0.1:6060", addr)
	}
	return nil
}

// servePprof serves net/http/pprof on the loopback address addr until ctx
// ends. Its failure to listen is logged, not fatal: profiling is a
// diagnosis aid.
func servePprof(ctx context.Context, addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Warn("profiling not served", slog.String("addr", addr), slog.Any("err", err))
		return
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("profiling served (loopback only)", slog.String("addr", ln.Addr().String()))
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("profiling stopped", slog.Any("err", err))
	}
}
