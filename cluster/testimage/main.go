// Command testimage is the one binary of the cluster test image (scratch + this file).
//
//	testimage serve            HTTP on $PORT (default 8080), endpoints below
//	testimage get URL          GET URL, print the body; exit 1 on error (for kubectl exec)
//	testimage lookup NAME      resolve NAME, print the addresses
//
// Endpoints: /healthz, / (echo: host, pod IP, request), /burn?ms=N (busy CPU),
// /dns?name=N, /fetch?url=U, /file?path=P (GET reads, PUT/POST writes the body).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testimage serve | get URL | lookup NAME")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve()
	case "get":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: testimage get URL")
			os.Exit(2)
		}
		body, err := fetch(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Print(body)
	case "lookup":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: testimage lookup NAME")
			os.Exit(2)
		}
		addrs, err := net.DefaultResolver.LookupHost(context.Background(), os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(strings.Join(addrs, "\n"))
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

var client = &http.Client{Timeout: 5 * time.Second}

func fetch(url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return string(body), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func serve() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{
			"host":   host,
			"pod_ip": os.Getenv("POD_IP"),
			"remote": r.RemoteAddr,
			"method": r.Method,
			"path":   r.URL.Path,
		})
	})
	mux.HandleFunc("/burn", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 60000 {
			fail(w, http.StatusBadRequest, fmt.Errorf("ms must be 0..60000"))
			return
		}
		deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
		n := 0
		for time.Now().Before(deadline) {
			for i := 0; i < 10000; i++ {
				n += i * i
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"burned_ms": ms, "host": host, "n": n % 7})
	})
	mux.HandleFunc("/dns", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		addrs, err := net.DefaultResolver.LookupHost(r.Context(), name)
		if err != nil {
			fail(w, http.StatusBadGateway, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": name, "addresses": addrs})
	})
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		body, err := fetch(r.URL.Query().Get("url"))
		if err != nil {
			fail(w, http.StatusBadGateway, err)
			return
		}
		_, _ = io.WriteString(w, body)
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Query().Get("path")
		if path == "" {
			fail(w, http.StatusBadRequest, fmt.Errorf("path is required"))
			return
		}
		switch r.Method {
		case http.MethodGet:
			data, err := os.ReadFile(path)
			if err != nil {
				fail(w, http.StatusNotFound, err)
				return
			}
			_, _ = w.Write(data)
		case http.MethodPut, http.MethodPost:
			data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err == nil {
				err = os.WriteFile(path, data, 0o644)
			}
			if err != nil {
				fail(w, http.StatusInternalServerError, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"written": len(data), "path": path})
		default:
			fail(w, http.StatusMethodNotAllowed, fmt.Errorf("GET, PUT or POST"))
		}
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("testimage serving on :%s\n", port)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
