// Package obs serves the operational endpoints every long-running command has: Prometheus /metrics and
// /healthz.
package obs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Register adds a component's collectors to reg (nil: none are registered), naming the component in the
// error: a second instance on one registry is a wiring mistake that must surface at start-up.
func Register(reg prometheus.Registerer, component string, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	var errs []error
	for _, c := range cs {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: register metrics: %w", component, err)
	}
	return nil
}

// Handler serves /metrics from reg and /healthz from health (nil: always healthy). Profiles are not
// here: they go on their own loopback listener (ServeDebug), so an address published for scraping or an
// API never exposes them.
func Handler(reg *prometheus.Registry, health func(context.Context) error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", HealthHandler(health))
	return mux
}

// HealthHandler answers "ok", or 503 with the error when health fails.
func HealthHandler(health func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if health != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			defer cancel()
			if err := health(ctx); err != nil {
				http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	}
}

// DebugHandler serves Go's profiles under /debug/pprof/ (memory and CPU questions in production are
// answered by `go tool pprof http://127.0.0.1:<port>/debug/pprof/heap` on the host, not by a rebuild).
func DebugHandler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// ErrDebugNotLoopback refuses a debug address anyone but the host could reach.
var ErrDebugNotLoopback = errors.New("debug address must be a loopback IP (127.0.0.1:<port> or [::1]:<port>)")

// ServeDebug serves DebugHandler on addr until ctx ends; empty addr (the default) serves nothing. Profiles
// show memory contents' shapes, goroutine stacks with arguments and can keep a CPU busy for a profile's
// duration, so only a loopback IP is accepted (":6060", "0.0.0.0:6060" and host names are refused). It
// returns the address listened on.
func ServeDebug(ctx context.Context, addr string, log *slog.Logger) (string, error) {
	if addr == "" {
		return "", nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--debug-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("--debug-addr %q: %w", addr, ErrDebugNotLoopback)
	}
	return serve(ctx, addr, DebugHandler(), "debug", log)
}

// Serve listens on addr until ctx ends. An empty addr serves nothing. It returns once listening, so a
// port conflict is reported to the caller at start-up.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	_, err := serve(ctx, addr, h, "metrics", log)
	return err
}

func serve(ctx context.Context, addr string, h http.Handler, what string, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s listener: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what+" server", "err", err)
		}
	}()
	log.Info("serving "+what, "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}
