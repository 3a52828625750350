package expr

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// redactResult is the value of $$DESCEND, $$PRUNE and $$KEEP, which only $redact gives
// meaning to.
type redactResult string

// Values of $redact's system variables.
const (
	RedactDescend redactResult = "descend"
	RedactPrune   redactResult = "prune"
	RedactKeep    redactResult = "keep"
)

// parsePath compiles "$a.b" (a field path) or "$$var.a.b" (a variable, optionally followed
// by a path into it).
func parsePath(s string, sc *scope) (node, error) {
	if strings.HasPrefix(s, "$$") {
		name, rest, _ := strings.Cut(s[2:], ".")
		var fields []string
		if rest != "" || strings.HasSuffix(s, ".") {
			var err error
			if fields, err = splitPath(rest, s); err != nil {
				return nil, err
			}
		}
		base, err := parseVariable(name, sc)
		if err != nil {
			return nil, err
		}
		if len(fields) == 0 {
			return base, nil
		}
		return pathNode{base: base, fields: fields}, nil
	}
	if s == "$" {
		return nil, mongoerr.Newf(16872, "'$' by itself is not a valid FieldPath")
	}
	fields, err := splitPath(s[1:], s)
	if err != nil {
		return nil, err
	}
	return pathNode{base: currentNode{}, fields: fields}, nil
}

func splitPath(p, whole string) ([]string, error) {
	fields := strings.Split(p, ".")
	for _, f := range fields {
		if f == "" {
			return nil, mongoerr.Newf(15998, "FieldPath field names may not be empty strings.")
		}
		if strings.HasPrefix(f, "$") {
			return nil, mongoerr.Newf(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
		}
	}
	return fields, nil
}

func parseVariable(name string, sc *scope) (node, error) {
	switch name {
	case "ROOT":
		return rootNode{}, nil
	case "CURRENT":
		return currentNode{}, nil
	case "REMOVE":
		return literal{value.Missing}, nil
	case "NOW":
		return nowNode{}, nil
	case "CLUSTER_TIME":
		return clusterTimeNode{}, nil
	case "DESCEND":
		return literal{RedactDescend}, nil
	case "PRUNE":
		return literal{RedactPrune}, nil
	case "KEEP":
		return literal{RedactKeep}, nil
	}
	if slot, ok := sc.lookup(name); ok {
		return slotNode(slot), nil
	}
	if sc.userVars[name] {
		return userVarNode(name), nil
	}
	if name == "" {
		return nil, mongoerr.Newf(16869, "empty variable name")
	}
	return nil, mongoerr.Newf(17276, "Use of undefined variable: %s", name)
}

// validateVarName checks a name a user binds with $let, $map, … : it must start with a
// lowercase letter or a non-ASCII character and contain only letters, digits and '_'.
func validateVarName(name string) error {
	if name == "" {
		return mongoerr.Newf(16866, "empty variable names are not allowed")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r > 127 ||
			i > 0 && (r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
		if !ok {
			if i == 0 {
				return mongoerr.Newf(16867, "'%s' starts with an invalid character for a user variable name", name)
			}
			return mongoerr.Newf(16868, "'%s' contains an invalid character for a variable name: '%c'", name, r)
		}
	}
	return nil
}

type rootNode struct{}

func (rootNode) eval(c *ctx) (any, error) { return c.root, nil }

type currentNode struct{}

func (currentNode) eval(c *ctx) (any, error) { return c.currentValue(), nil }

type nowNode struct{}

func (nowNode) eval(c *ctx) (any, error) {
	if c.env == nil {
		return bson.DateTime(0), nil
	}
	return c.env.Now, nil
}

type clusterTimeNode struct{}

func (clusterTimeNode) eval(c *ctx) (any, error) {
	if c.env == nil {
		return bson.Timestamp{}, nil
	}
	return c.env.ClusterTime, nil
}

type slotNode int

func (s slotNode) eval(c *ctx) (any, error) { return c.slots[s], nil }

type userVarNode string

func (u userVarNode) eval(c *ctx) (any, error) {
	if c.env != nil {
		if v, ok := c.env.Vars[string(u)]; ok {
			return v, nil
		}
	}
	return value.Missing, nil
}

// pathNode walks fields from the value of base. Through an array it collects the path's
// value in each element that is a document, skipping elements where it is missing and
// elements that are not documents (nested arrays included: mongod does not descend into an
// array inside an array, so {a: [[{b: 1}]]} gives [] for "$a.b").
type pathNode struct {
	base   node
	fields []string
}

func (p pathNode) eval(c *ctx) (any, error) {
	if _, ok := p.base.(currentNode); ok && !c.rebound {
		v, found := value.Lookup(c.root, p.fields[0])
		if !found {
			return value.Missing, nil
		}
		return walkPath(v, p.fields[1:]), nil
	}
	v, err := p.base.eval(c)
	if err != nil {
		return nil, err
	}
	return walkPath(v, p.fields), nil
}

func walkPath(v any, fields []string) any {
	for i, f := range fields {
		switch x := v.(type) {
		case bson.D:
			v = value.Get(x, f)
		case bson.A:
			return walkArray(x, fields[i:])
		default:
			return value.Missing
		}
	}
	return v
}

func walkArray(arr bson.A, fields []string) any {
	out := make(bson.A, 0, len(arr))
	for _, e := range arr {
		doc, ok := e.(bson.D)
		if !ok {
			continue
		}
		if r := walkPath(doc, fields); !value.IsMissing(r) {
			out = append(out, r)
		}
	}
	return out
}

// WalkPath returns the value a dotted field path names in doc, with the traversal rules of
// aggregation field paths ("$a.b"). It returns value.Missing when nothing is there.
func WalkPath(doc bson.D, path string) any {
	return walkPath(doc, strings.Split(path, "."))
}
