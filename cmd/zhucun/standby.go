package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"time"

	"zhucun/storage/mongo"
)

// A second zhucun on a MongoDB whose writer lease another one holds stands
// by: it listens on its address and answers /healthz (the process is
// alive), /readyz 503 with the reason (so a load balancer sends traffic to
// the active one), and every other request 503 "standby" with Retry-After;
// it tries the lease every second and takes over when it lapses (the
// active one stopped renewing it: crashed, hung or cut off).

// standbyRetry is how often a standby tries the lease, and the Retry-After
// it answers.
const standbyRetry = time.Second

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// standby serves the standby's answers until stopped.
type standby struct {
	srv    *http.Server
	reason func() string
	done   chan error
}

func startStandby(cfg Config, log *slog.Logger, reason func() string) (*standby, error) {
	sb := &standby{reason: reason, done: make(chan error, 1)}
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, ct string, status int, v any) {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, "application/json", http.StatusOK, map[string]string{"status": "ok", "version": buildVersion()})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", fmt.Sprint(int(standbyRetry.Seconds())))
		writeJSON(w, "application/json", http.StatusServiceUnavailable, map[string]string{"status": "standby", "reason": sb.reason()})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !requestIDRE.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		w.Header().Set("Retry-After", fmt.Sprint(int(standbyRetry.Seconds())))
		writeJSON(w, "application/problem+json", http.StatusServiceUnavailable, map[string]any{
			"type": "https://zhucun.invalid/problems/standby", "title": "Service Unavailable", "status": 503, "code": "standby",
			"detail":    "此服务器为备用实例，另一实例正在写入数据库；请稍后重试或改用主实例。(" + sb.reason() + ")",
			"requestId": id,
		})
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	sb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		var err error
		if cfg.TLSCertFile != "" {
			err = sb.srv.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			err = sb.srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("standby listener", "err", err)
		}
		sb.done <- err
	}()
	return sb, nil
}

// stop closes the standby's listener, so the active server can take it.
func (sb *standby) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sb.srv.Shutdown(ctx)
	<-sb.done
}

// openOrStandBy opens the stores; while another process holds the MongoDB
// writer lease it stands by on the address, trying again every second.
func openOrStandBy(ctx context.Context, cfg Config, log *slog.Logger, o storeOpts) (*stores, error) {
	var sb *standby
	defer func() {
		if sb != nil {
			sb.stop()
		}
	}()
	var held *mongo.LeaseHeldError
	for {
		st, err := openStoresWith(ctx, cfg, log, o)
		if !errors.As(err, &held) {
			return st, err
		}
		if sb == nil {
			log.Info("standing by: another zhucun writes this database", "holder", held.Holder, "until", held.Until)
			reason := func() string { return held.Error() }
			if sb, err = startStandby(cfg, log, reason); err != nil {
				return nil, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(standbyRetry):
		}
	}
}
