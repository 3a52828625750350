package update

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// arrayFilter is one compiled entry of an update's arrayFilters: a filter over the
// documents {<id>: <array element>}.
type arrayFilter struct {
	id string
	m  *match.Matcher
}

// matches tests one array element. buf is a one-field document reused across elements;
// the matcher does not retain it.
func (f *arrayFilter) matches(elem any, buf bson.D, env *expr.Env) (bool, error) {
	buf[0] = bson.E{Key: f.id, Value: elem}
	return f.m.Match(buf, env)
}

// parseArrayFilters compiles the command's arrayFilters and checks each names exactly one
// identifier, well formed and not repeated.
func parseArrayFilters(filters []bson.D, vars []string) (map[string]*arrayFilter, error) {
	if len(filters) == 0 {
		return nil, nil
	}
	opts := &match.Options{Vars: vars}
	out := make(map[string]*arrayFilter, len(filters))
	for _, f := range filters {
		m, err := match.Compile(f, opts)
		if err != nil {
			return nil, err
		}
		id, err := topLevelName(f)
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Cannot use an expression without a top-level field name in arrayFilters")
		}
		if !validIdentifier(id) {
			return nil, mongoerr.Newf(mongoerr.BadValue,
				"Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '%s'", id)
		}
		if _, dup := out[id]; dup {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Found multiple array filters with the same top-level field name %s", id)
		}
		out[id] = &arrayFilter{id: id, m: m}
	}
	return out, nil
}

// filterID returns the identifier of a filter that parseArrayFilters accepted.
func filterID(f bson.D) string {
	id, _ := topLevelName(f)
	return id
}

// topLevelName finds the one field name a filter constrains (the part of its paths before
// the first dot), looking through $and, $or and $nor; "" when there is none ($expr alone).
func topLevelName(f bson.D) (string, error) {
	name := ""
	for _, e := range f {
		var n string
		switch {
		case e.Key == "$and" || e.Key == "$or" || e.Key == "$nor":
			arr, _ := e.Value.(bson.A)
			for _, item := range arr {
				d, _ := item.(bson.D)
				sub, err := topLevelName(d)
				if err != nil {
					return "", err
				}
				if sub == "" {
					continue
				}
				if name != "" && sub != name {
					return "", twoNames(name, sub)
				}
				name = sub
			}
			continue
		case strings.HasPrefix(e.Key, "$"):
			continue
		default:
			n, _, _ = strings.Cut(e.Key, ".")
		}
		if name != "" && n != name {
			return "", twoNames(name, n)
		}
		name = n
	}
	return name, nil
}

func twoNames(a, b string) error {
	return mongoerr.Newf(mongoerr.FailedToParse,
		"Error parsing array filter :: caused by :: Expected a single top-level field name, found '%s' and '%s'", a, b)
}

// validIdentifier reports whether id is a lowercase letter followed by letters and digits.
func validIdentifier(id string) bool {
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// elementMatcher is a compiled $pull condition.
type elementMatcher = match.ElementMatcher

// compilePullCondition compiles the argument of $pull. MongoDB parses it with the
// "special" query features ($expr, $where, $text, geo $near) disabled.
func compilePullCondition(cond any) (*elementMatcher, error) {
	if d, ok := cond.(bson.D); ok {
		if err := banExpr(d); err != nil {
			return nil, err
		}
	}
	return match.CompileElement(cond, nil)
}

// banExpr rejects $expr in a query that does not allow it.
func banExpr(d bson.D) error {
	for _, e := range d {
		switch e.Key {
		case "$expr":
			return mongoerr.Newf(mongoerr.QueryFeatureNotAllowed, "$expr is not allowed in this context")
		case "$and", "$or", "$nor":
			arr, _ := e.Value.(bson.A)
			for _, item := range arr {
				if sub, ok := item.(bson.D); ok {
					if err := banExpr(sub); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
