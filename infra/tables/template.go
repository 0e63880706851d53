// Package tables turns the DynamoDB tables declared in the SAM template into
// CreateTable requests, so local and test databases are built from the same
// definition that is deployed.
package tables

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// tableType is the only resource type this package reads.
const tableType = "AWS::DynamoDB::Table"

// FromTemplate returns a CreateTableInput for every AWS::DynamoDB::Table in
// the template, keyed by logical id. TableName is left nil: callers choose
// names (see Create).
//
// The template is read as a plain YAML node tree rather than with
// goformation, which rejects the whole file with "json: Unmarshal(nil)" as
// soon as an intrinsic such as !If resolves to AWS::NoValue anywhere, and
// which knows nothing about resource types newer than its release. Walking
// the tree means custom tags (!Ref, !If, !Sub, !GetAtt ...) are harmless
// everywhere except in the few properties that shape a table's schema, where
// they are reported as errors because no local value for them exists.
//
// Properties DynamoDB Local cannot honour or that do not affect the schema
// (TableName, Tags, SSE, PITR, deletion protection, TTL, contributor
// insights, table class, Kinesis streams, resource policies...) are ignored.
func FromTemplate(path string) (map[string]*dynamodb.CreateTableInput, error) {
	return FromTemplateWith(path, nil)
}

// FromTemplateWith is FromTemplate with parameter values other than the
// template's defaults: the tables as a stack with those parameters has
// them. A list of global secondary indexes may hold !If entries on
// conditions over parameters (and !Ref AWS::NoValue), which it evaluates.
func FromTemplateWith(path string, params map[string]string) (map[string]*dynamodb.CreateTableInput, error) {
	root, err := readTemplate(path)
	if err != nil {
		return nil, err
	}
	out, err := parse(root, newTemplateEnv(root, params))
	if err != nil {
		return nil, fmt.Errorf("tables: %s: %w", path, err)
	}
	return out, nil
}

// Condition evaluates a condition of the template for the given
// parameter values (defaults for the others).
func Condition(path string, params map[string]string, name string) (bool, error) {
	root, err := readTemplate(path)
	if err != nil {
		return false, err
	}
	v, err := newTemplateEnv(root, params).cond(name)
	if err != nil {
		return false, fmt.Errorf("tables: %s: %w", path, err)
	}
	return v, nil
}

func readTemplate(path string) (*yaml.Node, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tables: read template: %w", err)
	}
	root, err := templateRoot(src)
	if err != nil {
		return nil, fmt.Errorf("tables: %s: %w", path, err)
	}
	return root, nil
}

func templateRoot(src []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("template root is not a mapping")
	}
	return root, nil
}

// parseSource parses a template's text for parameter values.
func parseSource(src []byte, params map[string]string) (map[string]*dynamodb.CreateTableInput, error) {
	root, err := templateRoot(src)
	if err != nil {
		return nil, err
	}
	return parse(root, newTemplateEnv(root, params))
}

func parse(root *yaml.Node, env *templateEnv) (map[string]*dynamodb.CreateTableInput, error) {
	resources := lookup(root, "Resources")
	if resources == nil {
		return nil, fmt.Errorf("template has no Resources")
	}
	if resources.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: Resources is not a mapping", resources.Line)
	}

	out := map[string]*dynamodb.CreateTableInput{}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id := resources.Content[i].Value
		res := deref(resources.Content[i+1])
		if res.Kind != yaml.MappingNode {
			continue
		}
		if t := lookup(res, "Type"); t == nil || t.Kind != yaml.ScalarNode || t.Value != tableType {
			continue
		}
		in, err := tableInput(env, field{path: id + ".Properties", node: lookup(res, "Properties")})
		if err != nil {
			return nil, err
		}
		out[id] = in
	}
	return out, nil
}

func tableInput(env *templateEnv, props field) (*dynamodb.CreateTableInput, error) {
	if err := props.mapping(); err != nil {
		return nil, err
	}
	in := &dynamodb.CreateTableInput{}

	// CloudFormation's default billing mode is PROVISIONED.
	billing := types.BillingModeProvisioned
	if f := props.get("BillingMode"); f.node != nil {
		s, err := f.str()
		if err != nil {
			return nil, err
		}
		billing = types.BillingMode(s)
		if billing != types.BillingModeProvisioned && billing != types.BillingModePayPerRequest {
			return nil, f.errorf("unknown billing mode %q", s)
		}
	}
	in.BillingMode = billing
	provisioned := billing == types.BillingModeProvisioned

	var err error
	if in.AttributeDefinitions, err = attributeDefinitions(props.get("AttributeDefinitions")); err != nil {
		return nil, err
	}
	if in.KeySchema, err = keySchema(props.get("KeySchema")); err != nil {
		return nil, err
	}
	if provisioned {
		if in.ProvisionedThroughput, err = throughput(props.get("ProvisionedThroughput")); err != nil {
			return nil, err
		}
	}

	if err := props.get("GlobalSecondaryIndexes").eachOptional(func(ix field) error {
		n, ok, err := env.resolve(ix.node)
		if err != nil {
			return ix.errorf("%v", err)
		}
		if !ok {
			return nil // !Ref AWS::NoValue: no index in this configuration
		}
		ix.node = n
		name, keys, proj, err := index(ix)
		if err != nil {
			return err
		}
		gsi := types.GlobalSecondaryIndex{IndexName: name, KeySchema: keys, Projection: proj}
		if provisioned {
			if gsi.ProvisionedThroughput, err = throughput(ix.get("ProvisionedThroughput")); err != nil {
				return err
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
		return nil
	}); err != nil {
		return nil, err
	}

	if err := props.get("LocalSecondaryIndexes").eachOptional(func(ix field) error {
		name, keys, proj, err := index(ix)
		if err != nil {
			return err
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes,
			types.LocalSecondaryIndex{IndexName: name, KeySchema: keys, Projection: proj})
		return nil
	}); err != nil {
		return nil, err
	}

	if f := props.get("StreamSpecification"); f.node != nil {
		if err := f.mapping(); err != nil {
			return nil, err
		}
		view, err := f.get("StreamViewType").str()
		if err != nil {
			return nil, err
		}
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(view),
		}
	}
	return in, nil
}

// namedPairs reads a list of {AttributeName: …, <second>: …} mappings,
// the shape of both attribute definitions and key schemas.
func namedPairs[T any](f field, second string, mk func(name, value string) T) ([]T, error) {
	var out []T
	err := f.each(func(e field) error {
		if err := e.mapping(); err != nil {
			return err
		}
		name, err := e.get("AttributeName").str()
		if err != nil {
			return err
		}
		value, err := e.get(second).str()
		if err != nil {
			return err
		}
		out = append(out, mk(name, value))
		return nil
	})
	return out, err
}

func attributeDefinitions(f field) ([]types.AttributeDefinition, error) {
	return namedPairs(f, "AttributeType", func(name, typ string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeType(typ)}
	})
}

func keySchema(f field) ([]types.KeySchemaElement, error) {
	return namedPairs(f, "KeyType", func(name, typ string) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyType(typ)}
	})
}

func index(ix field) (*string, []types.KeySchemaElement, *types.Projection, error) {
	if err := ix.mapping(); err != nil {
		return nil, nil, nil, err
	}
	name, err := ix.get("IndexName").str()
	if err != nil {
		return nil, nil, nil, err
	}
	keys, err := keySchema(ix.get("KeySchema"))
	if err != nil {
		return nil, nil, nil, err
	}
	pf := ix.get("Projection")
	if err := pf.mapping(); err != nil {
		return nil, nil, nil, err
	}
	proj := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	if f := pf.get("ProjectionType"); f.node != nil {
		s, err := f.str()
		if err != nil {
			return nil, nil, nil, err
		}
		proj.ProjectionType = types.ProjectionType(s)
	}
	if err := pf.get("NonKeyAttributes").eachOptional(func(a field) error {
		s, err := a.str()
		proj.NonKeyAttributes = append(proj.NonKeyAttributes, s)
		return err
	}); err != nil {
		return nil, nil, nil, err
	}
	return aws.String(name), keys, proj, nil
}

func throughput(f field) (*types.ProvisionedThroughput, error) {
	if err := f.mapping(); err != nil {
		return nil, err
	}
	r, err := f.get("ReadCapacityUnits").int64()
	if err != nil {
		return nil, err
	}
	w, err := f.get("WriteCapacityUnits").int64()
	if err != nil {
		return nil, err
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}, nil
}

// field is a YAML node plus the dotted path that led to it, so errors point
// at the offending property rather than only a line number.
type field struct {
	path string
	node *yaml.Node // nil when the property is absent
}

func (f field) get(key string) field {
	return field{path: f.path + "." + key, node: lookup(f.node, key)}
}

func (f field) errorf(format string, args ...any) error {
	line := 0
	if f.node != nil {
		line = f.node.Line
	}
	return fmt.Errorf("line %d: %s: %s", line, f.path, fmt.Sprintf(format, args...))
}

// check rejects absent properties and intrinsic functions. A schema that
// depends on a parameter or condition cannot be reproduced locally without
// evaluating CloudFormation, so it is better to fail loudly than guess.
func (f field) check() error {
	if f.node == nil {
		return f.errorf("required property is missing")
	}
	if name, ok := intrinsic(f.node); ok {
		return f.errorf("intrinsic function %s is not supported in table schema properties", name)
	}
	return nil
}

func (f field) mapping() error {
	if err := f.check(); err != nil {
		return err
	}
	if f.node.Kind != yaml.MappingNode {
		return f.errorf("want a mapping")
	}
	return nil
}

func (f field) str() (string, error) {
	if err := f.check(); err != nil {
		return "", err
	}
	if f.node.Kind != yaml.ScalarNode || f.node.Value == "" {
		return "", f.errorf("want a non-empty string")
	}
	return f.node.Value, nil
}

func (f field) int64() (int64, error) {
	s, err := f.str()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, f.errorf("want an integer, got %q", s)
	}
	return n, nil
}

// each calls fn for every element of a required sequence.
func (f field) each(fn func(field) error) error {
	if err := f.check(); err != nil {
		return err
	}
	if f.node.Kind != yaml.SequenceNode {
		return f.errorf("want a list")
	}
	for i, n := range f.node.Content {
		if err := fn(field{path: fmt.Sprintf("%s[%d]", f.path, i), node: deref(n)}); err != nil {
			return err
		}
	}
	return nil
}

func (f field) eachOptional(fn func(field) error) error {
	if f.node == nil {
		return nil
	}
	return f.each(fn)
}

// lookup returns the value for key in a mapping node, following aliases.
func lookup(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// intrinsic reports whether n is a CloudFormation intrinsic, in either the
// short tag form (!Ref x) or the long mapping form ({Ref: x}, {Fn::If: ...}).
func intrinsic(n *yaml.Node) (string, bool) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return n.Tag, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, true
		}
	}
	return "", false
}

// templateEnv evaluates the conditions of a template for parameter values.
type templateEnv struct {
	params map[string]string
	conds  map[string]*yaml.Node
	seen   map[string]bool // conditions being evaluated, against cycles
}

func newTemplateEnv(root *yaml.Node, params map[string]string) *templateEnv {
	env := &templateEnv{params: map[string]string{}, conds: map[string]*yaml.Node{}, seen: map[string]bool{}}
	if ps := lookup(root, "Parameters"); ps != nil && ps.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(ps.Content); i += 2 {
			if d := lookup(ps.Content[i+1], "Default"); d != nil && d.Kind == yaml.ScalarNode {
				env.params[ps.Content[i].Value] = d.Value
			}
		}
	}
	for k, v := range params {
		env.params[k] = v
	}
	if cs := lookup(root, "Conditions"); cs != nil && cs.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(cs.Content); i += 2 {
			env.conds[cs.Content[i].Value] = deref(cs.Content[i+1])
		}
	}
	return env
}

// fn splits an intrinsic into its name (If, Equals, Ref…) and argument.
func fn(n *yaml.Node) (string, *yaml.Node) {
	n = deref(n)
	if n == nil {
		return "", nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return strings.TrimPrefix(n.Tag, "!"), n
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" {
			return k, deref(n.Content[1])
		}
		if strings.HasPrefix(k, "Fn::") {
			return strings.TrimPrefix(k, "Fn::"), deref(n.Content[1])
		}
	}
	return "", n
}

func (e *templateEnv) cond(name string) (bool, error) {
	c, ok := e.conds[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	if e.seen[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	e.seen[name] = true
	defer delete(e.seen, name)
	return e.eval(c)
}

// eval evaluates a condition expression.
func (e *templateEnv) eval(n *yaml.Node) (bool, error) {
	name, arg := fn(n)
	args := func(min int) ([]*yaml.Node, error) {
		if arg.Kind != yaml.SequenceNode || len(arg.Content) < min {
			return nil, fmt.Errorf("line %d: %s wants %d or more arguments", arg.Line, name, min)
		}
		return arg.Content, nil
	}
	switch name {
	case "Condition":
		return e.cond(arg.Value)
	case "Equals":
		as, err := args(2)
		if err != nil {
			return false, err
		}
		a, err := e.value(as[0])
		if err != nil {
			return false, err
		}
		b, err := e.value(as[1])
		return a == b, err
	case "Not":
		as, err := args(1)
		if err != nil {
			return false, err
		}
		v, err := e.eval(as[0])
		return !v, err
	case "And", "Or":
		as, err := args(2)
		if err != nil {
			return false, err
		}
		for _, a := range as {
			v, err := e.eval(a)
			if err != nil {
				return false, err
			}
			if v == (name == "Or") {
				return v, nil
			}
		}
		return name == "And", nil
	}
	return false, fmt.Errorf("line %d: %q is no condition function this package evaluates", n.Line, name)
}

// value reads a scalar or a parameter's value.
func (e *templateEnv) value(n *yaml.Node) (string, error) {
	name, arg := fn(n)
	switch name {
	case "":
		if arg.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("line %d: want a value", n.Line)
		}
		return arg.Value, nil
	case "Ref":
		v, ok := e.params[arg.Value]
		if !ok {
			return "", fmt.Errorf("line %d: no parameter %s", n.Line, arg.Value)
		}
		return v, nil
	}
	return "", fmt.Errorf("line %d: %s is no value this package evaluates", n.Line, name)
}

// resolve chooses the branch of an !If; ok is false when the choice is
// !Ref AWS::NoValue. Other nodes resolve to themselves.
func (e *templateEnv) resolve(n *yaml.Node) (*yaml.Node, bool, error) {
	for {
		name, arg := fn(n)
		switch name {
		case "If":
			if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
				return nil, false, fmt.Errorf("line %d: If wants a condition and two values", n.Line)
			}
			v, err := e.cond(arg.Content[0].Value)
			if err != nil {
				return nil, false, err
			}
			n = arg.Content[2]
			if v {
				n = arg.Content[1]
			}
			continue
		case "Ref":
			if arg.Value == "AWS::NoValue" {
				return nil, false, nil
			}
		}
		return deref(n), true, nil
	}
}
