package server

import (
	"context"
	"os"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register((*Server).cmdExplain, "explain")
}

// explainTarget extracts from an explained command the filter and hint that decide its
// plan.
func explainTarget(inner bson.D) (filter bson.D, hint any, err error) {
	get := func(d bson.D, k string) any { v, _ := value.Lookup(d, k); return v }
	firstStmt := func(key string) bson.D {
		arr, _ := get(inner, key).(bson.A)
		if len(arr) == 0 {
			return nil
		}
		d, _ := arr[0].(bson.D)
		return d
	}
	switch inner[0].Key {
	case "find":
		filter, _ = get(inner, "filter").(bson.D)
		hint = get(inner, "hint")
	case "count", "distinct", "findAndModify", "findandmodify":
		filter, _ = get(inner, "query").(bson.D)
		hint = get(inner, "hint")
	case "delete":
		st := firstStmt("deletes")
		filter, _ = get(st, "q").(bson.D)
		hint = get(st, "hint")
	case "update":
		st := firstStmt("updates")
		filter, _ = get(st, "q").(bson.D)
		hint = get(st, "hint")
	default:
		return nil, nil, mongoerr.Newf(mongoerr.CommandNotFound, "Explain failed due to unknown command: %s", inner[0].Key)
	}
	return filter, hint, nil
}

func (s *Server) cmdExplain(_ context.Context, req *request) (bson.D, error) {
	inner, err := asDoc(req.name, "explain", req.body[0].Value)
	if err != nil {
		return nil, err
	}
	if len(inner) == 0 {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "explain command requires a nested object")
	}
	verbosity := "allPlansExecution"
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		if e.Key != "verbosity" {
			return false, nil
		}
		v, err := asString(req.name, e.Key, e.Value)
		verbosity = v
		return true, err
	}); err != nil {
		return nil, err
	}
	innerReq := &request{conn: req.conn, db: req.db, name: inner[0].Key, body: append(inner, bson.E{Key: "$db", Value: req.db}), now: req.now}
	if inner[0].Key == "aggregate" {
		a, err := parseAggregate(innerReq)
		if err != nil {
			return nil, err
		}
		a.explain = true
		env, vars, err := s.env(innerReq, a.let)
		if err != nil {
			return nil, err
		}
		p, err := agg.Compile(a.pipeline, agg.Options{Vars: vars, DB: req.db})
		if err != nil {
			return nil, err
		}
		return s.explainAggregate(innerReq, a, p, s.store.Collection(req.db, a.collection), env)
	}
	name, err := collectionName(innerReq)
	if err != nil {
		return nil, err
	}
	filter, hint, err := explainTarget(inner)
	if err != nil {
		return nil, err
	}
	env, _, err := s.env(req, nil)
	if err != nil {
		return nil, err
	}
	plan, err := s.plan(req.db, name, filter, hint, 0, env)
	if err != nil {
		return nil, err
	}
	return s.explainReply(req.db+"."+name, filter, plan, verbosity, inner), nil
}

// plan runs a query's scan without returning documents, to report how it executes.
func (s *Server) plan(db, coll string, filter bson.D, hint any, limit int, env *expr.Env) (*storage.Plan, error) {
	c := s.store.Collection(db, coll)
	if c == nil {
		return &storage.Plan{}, nil
	}
	m, err := match.Compile(filter, nil)
	if err != nil {
		return nil, err
	}
	var plan *storage.Plan
	err = c.Read(func(tx *storage.Tx) error {
		_, plan, err = tx.Find(&storage.Query{Filter: filter, Matcher: m, Env: env, Hint: hint, Limit: limit})
		return err
	})
	return plan, err
}

// winningPlan renders a plan as MongoDB's explain stages: FETCH over IXSCAN, or COLLSCAN.
func winningPlan(p *storage.Plan) bson.D {
	if p.Index == "" {
		return bson.D{{Key: "stage", Value: "COLLSCAN"}, {Key: "direction", Value: "forward"}}
	}
	return bson.D{
		{Key: "stage", Value: "FETCH"},
		{Key: "inputStage", Value: bson.D{
			{Key: "stage", Value: "IXSCAN"},
			{Key: "keyPattern", Value: p.KeyPattern},
			{Key: "indexName", Value: p.Index},
			{Key: "isMultiKey", Value: p.Multikey},
			{Key: "direction", Value: "forward"},
		}},
	}
}

func (s *Server) explainReply(ns string, filter bson.D, plan *storage.Plan, verbosity string, command bson.D) bson.D {
	if filter == nil {
		filter = bson.D{}
	}
	host, _ := os.Hostname()
	reply := []bson.E{
		{Key: "explainVersion", Value: "1"},
		{Key: "queryPlanner", Value: bson.D{
			{Key: "namespace", Value: ns},
			{Key: "indexFilterSet", Value: false},
			{Key: "parsedQuery", Value: filter},
			{Key: "winningPlan", Value: winningPlan(plan)},
			{Key: "rejectedPlans", Value: bson.A{}},
		}},
	}
	if verbosity != "queryPlanner" {
		reply = append(reply, bson.E{Key: "executionStats", Value: bson.D{
			{Key: "executionSuccess", Value: true},
			{Key: "nReturned", Value: int32(plan.Returned)},
			{Key: "executionTimeMillis", Value: int32(0)},
			{Key: "totalKeysExamined", Value: int32(plan.KeysExamined)},
			{Key: "totalDocsExamined", Value: int32(plan.DocsExamined)},
			{Key: "executionStages", Value: winningPlan(plan)},
		}})
	}
	reply = append(reply,
		bson.E{Key: "command", Value: command},
		bson.E{Key: "serverInfo", Value: bson.D{{Key: "host", Value: host}, {Key: "version", Value: Version}, {Key: "gitVersion", Value: "mongotest"}}},
	)
	return ok(reply...)
}

func (s *Server) explainAggregate(req *request, a *aggregateSpec, p *agg.Pipeline, coll *storage.Collection, env *expr.Env) (bson.D, error) {
	filter, limit := p.SourcePlan()
	plan := &storage.Plan{}
	if coll != nil {
		var err error
		if plan, err = s.plan(req.db, a.collection, filter, nil, limit, env); err != nil {
			return nil, err
		}
	}
	cursorStage := s.explainReply(req.db+"."+a.collection, filter, plan, "executionStats", nil)
	stagesOut := bson.A{bson.D{{Key: "$cursor", Value: cursorStage[:3]}}}
	for i, st := range a.pipeline {
		if i == 0 && filter != nil {
			continue // the leading $match runs inside $cursor
		}
		stagesOut = append(stagesOut, st)
	}
	return ok(
		bson.E{Key: "explainVersion", Value: "1"},
		bson.E{Key: "stages", Value: stagesOut},
		bson.E{Key: "queryPlanner", Value: cursorStage[1].Value},
	), nil
}
