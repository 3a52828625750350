// Package expr compiles and evaluates MongoDB aggregation expressions: field paths
// ("$a.b"), system and user variables ("$$ROOT", "$$x"), literals, documents and arrays
// of expressions, and operator expressions ({$add: [...]}).
//
// Operators live in a registry filled by the files of this package, one file per family
// (arithmetic.go, string.go, date.go, …). Compile resolves everything it can up front —
// operator names, argument counts, variable names — so evaluation does no parsing.
package expr

import (
	"slices"
	"strings"
	"sync"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Env is the state an evaluation needs beyond the document: values fixed for one command
// and the user variables bound by a command's or a $lookup's let.
type Env struct {
	// Now is the value of $$NOW; one command sees one instant.
	Now bson.DateTime
	// ClusterTime is the value of $$CLUSTER_TIME.
	ClusterTime bson.Timestamp
	// Vars holds user variables by name, without the "$$" prefix.
	Vars map[string]any
}

// Expr is a compiled expression. It is immutable and safe for concurrent use.
type Expr struct {
	root  node
	slots int
}

// node is one compiled expression node.
type node interface {
	eval(c *ctx) (any, error)
}

// ctx is the evaluation state of one Eval call.
type ctx struct {
	env  *Env
	root bson.D
	// current is $$CURRENT once an operator rebinds it; until then $$CURRENT is root,
	// which field paths read directly without boxing the document into an interface.
	current any
	rebound bool
	slots   []any // values of variables bound inside the expression ($let, $map, …)
}

// curState is a saved $$CURRENT, restored when a rebinding operator is done.
type curState struct {
	v       any
	rebound bool
}

func (c *ctx) saveCurrent() curState     { return curState{c.current, c.rebound} }
func (c *ctx) restoreCurrent(s curState) { c.current, c.rebound = s.v, s.rebound }
func (c *ctx) setCurrent(v any)          { c.current, c.rebound = v, true }
func (c *ctx) currentValue() any {
	if c.rebound {
		return c.current
	}
	return c.root
}

// ctxPool recycles evaluation contexts: one Eval per document per expression is the
// hottest path of every pipeline.
var ctxPool = sync.Pool{New: func() any { return new(ctx) }}

// Eval evaluates e with doc as $$ROOT and $$CURRENT. The result may be value.Missing
// (a path that does not exist, or $$REMOVE).
func (e *Expr) Eval(env *Env, doc bson.D) (any, error) {
	c := ctxPool.Get().(*ctx)
	c.env, c.root = env, doc
	if e.slots > 0 {
		if cap(c.slots) < e.slots {
			c.slots = make([]any, e.slots)
		}
		c.slots = c.slots[:e.slots]
	}
	v, err := e.root.eval(c)
	clear(c.slots)
	*c = ctx{slots: c.slots[:0]}
	ctxPool.Put(c)
	return v, err
}

// IsConstant reports whether e evaluates to the same value for every document, and that
// value. Stages use it to validate arguments once (a constant $limit, say).
func (e *Expr) IsConstant() (any, bool) {
	if l, ok := e.root.(literal); ok {
		return l.v, true
	}
	return nil, false
}

// Compile parses spec, an expression as it appears in a pipeline. userVars names the user
// variables (without "$$") the expression may reference; their values come from Env.Vars.
func Compile(spec any, userVars ...string) (*Expr, error) {
	sc := &scope{names: map[string]int{}, userVars: map[string]bool{}, counter: new(int)}
	for _, v := range userVars {
		sc.userVars[v] = true
	}
	n, err := parse(spec, sc)
	if err != nil {
		return nil, err
	}
	return &Expr{root: n, slots: *sc.counter}, nil
}

// scope tracks, at compile time, the variables visible at a point of the expression.
type scope struct {
	parent   *scope
	names    map[string]int // variable name -> slot
	userVars map[string]bool
	counter  *int // slots allocated so far in the whole expression
}

// bind opens a child scope binding names to fresh slots.
func (s *scope) bind(names ...string) (*scope, []int) {
	child := &scope{parent: s, names: map[string]int{}, userVars: s.userVars, counter: s.counter}
	slots := make([]int, len(names))
	for i, n := range names {
		slots[i] = *s.counter
		child.names[n] = slots[i]
		*s.counter++
	}
	return child, slots
}

func (s *scope) lookup(name string) (int, bool) {
	for sc := s; sc != nil; sc = sc.parent {
		if slot, ok := sc.names[name]; ok {
			return slot, true
		}
	}
	return 0, false
}

// parseFunc compiles the argument of one operator.
type parseFunc func(args any, sc *scope) (node, error)

// operators maps "$name" to its parser. Files of this package register into it from init.
var operators = map[string]parseFunc{}

// register adds an operator; a duplicate registration is a programming error.
func register(name string, p parseFunc) {
	if _, dup := operators[name]; dup {
		panic("expr: operator registered twice: " + name)
	}
	operators[name] = p
}

// IsOperator reports whether name (with its "$") is a known expression operator.
func IsOperator(name string) bool {
	_, ok := operators[name]
	return ok
}

func parse(spec any, sc *scope) (node, error) {
	switch x := spec.(type) {
	case string:
		if strings.HasPrefix(x, "$") {
			return parsePath(x, sc)
		}
		return literal{x}, nil
	case bson.D:
		return parseDocument(x, sc)
	case bson.A:
		return parseArray(x, sc)
	}
	return literal{spec}, nil
}

func parseArray(arr bson.A, sc *scope) (node, error) {
	items := make([]node, len(arr))
	allConst := true
	for i, v := range arr {
		n, err := parse(v, sc)
		if err != nil {
			return nil, err
		}
		items[i] = n
		if _, ok := n.(literal); !ok {
			allConst = false
		}
	}
	if allConst {
		out := make(bson.A, len(items))
		for i, n := range items {
			out[i] = n.(literal).v
		}
		return literal{out}, nil
	}
	return arrayNode(items), nil
}

func parseDocument(d bson.D, sc *scope) (node, error) {
	if len(d) > 0 && strings.HasPrefix(d[0].Key, "$") {
		if len(d) != 1 {
			return nil, mongoerr.Newf(15983, "an expression specification must contain exactly one field, the name of the expression. Found %d fields in %s", len(d), value.Format(d))
		}
		p, ok := operators[d[0].Key]
		if !ok {
			return nil, mongoerr.Newf(mongoerr.InvalidPipelineOperator, "Unrecognized expression '%s'", d[0].Key)
		}
		return p(d[0].Value, sc)
	}
	fields := make([]docField, 0, len(d))
	seen := make(map[string]bool, len(d))
	for _, e := range d {
		if err := checkFieldName(e.Key); err != nil {
			return nil, err
		}
		if seen[e.Key] {
			return nil, mongoerr.Newf(16406, "duplicate field name specified in object literal: %s", value.Format(d))
		}
		seen[e.Key] = true
		n, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		fields = append(fields, docField{e.Key, n})
	}
	return docNode(fields), nil
}

func checkFieldName(name string) error {
	switch {
	case name == "":
		return mongoerr.Newf(16412, "field names may not be empty strings")
	case strings.HasPrefix(name, "$"):
		return mongoerr.Newf(16410, "field names may not start with '$': %s", name)
	case strings.Contains(name, "."):
		return mongoerr.Newf(16412, "field names may not contain '.': %s", name)
	}
	return nil
}

// literal is a constant.
type literal struct{ v any }

func (l literal) eval(*ctx) (any, error) { return l.v, nil }

// arrayNode evaluates to an array of its items; a missing item becomes null.
type arrayNode []node

func (a arrayNode) eval(c *ctx) (any, error) {
	out := make(bson.A, len(a))
	for i, n := range a {
		v, err := n.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsMissing(v) {
			v = nil
		}
		out[i] = v
	}
	return out, nil
}

type docField struct {
	key string
	n   node
}

// docNode evaluates to a document; fields that evaluate to missing are left out.
type docNode []docField

func (d docNode) eval(c *ctx) (any, error) {
	out := make(bson.D, 0, len(d))
	for _, f := range d {
		v, err := f.n.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsMissing(v) {
			continue
		}
		out = append(out, bson.E{Key: f.key, Value: v})
	}
	return out, nil
}

// Operators lists every registered expression operator ("$add", …), sorted.
func Operators() []string {
	names := make([]string, 0, len(operators))
	for n := range operators {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
