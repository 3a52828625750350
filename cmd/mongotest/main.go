// Command mongotest runs modjo's embedded MongoDB server until interrupted.
//
//	go run ./cmd/mongotest [-addr host:port] [-replset name | -standalone] [-v]
//
// The first line it prints on stdout is the connection string; with port 0 it picks a
// free port. SIGINT or SIGTERM stops it with exit status 0.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/modjo-orm/modjo/mongotest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:27017", "address to listen on (port 0 picks a free port)")
	replSet := flag.String("replset", mongotest.DefaultReplicaSet, "replica-set name to report")
	standalone := flag.Bool("standalone", false, "present as a standalone server instead of a replica-set primary")
	verbose := flag.Bool("v", false, "log connections and command errors to stderr")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	srv, err := mongotest.Start(mongotest.Options{Addr: *addr, ReplicaSet: *replSet, Standalone: *standalone, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(srv.URI())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
