package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/rapportcrm/rapport/crm"
)

// What an error may say in production. With introspection off, a caller
// who has not been given the schema learns it only from our answers, so
// an error names what the caller wrote and nothing else of the schema's
// inputs: no suggestion ("Did you mean …?"), no argument a field requires,
// no field or value of an input type, no type an argument expects. Output
// type names may appear ("Cannot query field x on type Customer"): any
// caller reads them with __typename. What is withheld is logged under the
// request id; with introspection on (locally) errors say everything.

// productionRules is gqlparser's rule set as production validates with:
// the rules that suggest swapped for their plain variants, and the rules
// that describe inputs wrapped so that they name only the argument the
// caller wrote (withheldRules).
func productionRules() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range suggestingRules {
		r.RemoveRule(swap.suggesting.Name)
		r.AddRule(swap.plain.Name, swap.plain.RuleFunc)
	}
	for _, w := range withheldRules {
		for _, inner := range w.inner {
			r.RemoveRule(inner.Name)
		}
		r.AddRule(w.name, w.wrap(w.inner...))
	}
	return r
}

// suggestingRules are the rules gqlparser offers with and without
// suggestions. gqlgen's SetDisableSuggestion swaps only the first two;
// the plain ValuesOfCorrectType is then wrapped by withheldRules.
var suggestingRules = []struct{ suggesting, plain core.Rule }{
	{rules.FieldsOnCorrectTypeRule, rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
	{rules.ScalarLeafsRule, rules.ScalarLeafsRuleWithoutSuggestions},
	{rules.KnownArgumentNamesRule, rules.KnownArgumentNamesRuleWithoutSuggestions},
	{rules.KnownTypeNamesRule, rules.KnownTypeNamesRuleWithoutSuggestions},
	{rules.ValuesOfCorrectTypeRule, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
}

// withheldRules replace rules whose messages would walk the schema's
// inputs: an invalid literal or misplaced variable names the input type,
// the field it lacks or the type expected; a missing argument is named
// with its type.
var withheldRules = []struct {
	name  string
	inner []core.Rule
	wrap  func(...core.Rule) core.RuleFunc
}{
	{"ArgumentValuesWithheld", []core.Rule{rules.ValuesOfCorrectTypeRuleWithoutSuggestions, rules.VariablesInAllowedPositionRule}, argumentValues},
	{"RequiredArgumentsWithheld", []core.Rule{rules.ProvidedRequiredArgumentsRule}, requiredArguments},
}

// argumentValues reports each argument holding an invalid value (at any
// depth) once, as "invalid input for argument X", with the inner rules'
// messages withheld.
func argumentValues(inner ...core.Rule) core.RuleFunc {
	return func(obs *core.Events, addError core.AddErrFunc) {
		w := newWithholder(obs, addError, inner)
		// The walk visits values before the field or directive they are
		// arguments of: an offending value waits there for its argument.
		var pending []pendingValue
		obs.OnValue(func(_ *core.Walker, v *ast.Value) {
			if errs := w.take(); len(errs) > 0 {
				pending = append(pending, pendingValue{v, errs})
			}
		})
		settle := func(args ast.ArgumentList, format, owner string) {
			for _, arg := range args {
				if errs := takeWithin(&pending, arg.Value); len(errs) > 0 {
					w.report(arg.Position, arg.Name, errs, format, arg.Name, owner)
				}
			}
		}
		obs.OnField(func(_ *core.Walker, f *ast.Field) {
			w.unexpected(w.take())
			settle(f.Arguments, `invalid input for argument "%s" on field "%s"`, f.Name)
		})
		obs.OnDirective(func(_ *core.Walker, d *ast.Directive) {
			w.unexpected(w.take())
			settle(d.Arguments, `invalid input for argument "%s" on directive "@%s"`, d.Name)
		})
		// Variables' default values are walked first and settled when the
		// operation is done; anything still pending then (never expected)
		// is reported where it is, without detail.
		obs.OnOperation(func(_ *core.Walker, op *ast.OperationDefinition) {
			w.unexpected(w.take())
			for _, vd := range op.VariableDefinitions {
				if vd.DefaultValue == nil {
					continue
				}
				if errs := takeWithin(&pending, vd.DefaultValue); len(errs) > 0 {
					w.report(vd.DefaultValue.Position, vd.Variable, errs, `invalid default value for variable "$%s"`, vd.Variable)
				}
			}
			for _, p := range pending {
				w.unexpected(p.errs)
			}
			pending = nil
		})
		obs.OnFragment(func(_ *core.Walker, _ *ast.FragmentDefinition) {
			w.unexpected(w.take())
			for _, p := range pending {
				w.unexpected(p.errs)
			}
			pending = nil
		})
	}
}

// requiredArguments reports a field or directive that lacks a required
// argument without naming the argument.
func requiredArguments(inner ...core.Rule) core.RuleFunc {
	return func(obs *core.Events, addError core.AddErrFunc) {
		w := newWithholder(obs, addError, inner)
		obs.OnField(func(_ *core.Walker, f *ast.Field) {
			w.report(f.Position, "", w.take(), `field "%s" is missing a required argument`, f.Name)
		})
		obs.OnDirective(func(_ *core.Walker, d *ast.Directive) {
			w.report(d.Position, "", w.take(), `directive "@%s" is missing a required argument`, d.Name)
		})
		// The inner rule reports on fields and directives only; anything
		// reported elsewhere (never expected) is reported where it is.
		obs.OnValue(func(*core.Walker, *ast.Value) { w.unexpected(w.take()) })
		obs.OnOperation(func(*core.Walker, *ast.OperationDefinition) { w.unexpected(w.take()) })
		obs.OnFragment(func(*core.Walker, *ast.FragmentDefinition) { w.unexpected(w.take()) })
	}
}

// withholder runs inner rules with their errors held back. Its own
// observers are registered after the inner rules' and so run after theirs
// on every node: what is held when one runs was reported on that node.
type withholder struct {
	held     []*gqlerror.Error
	addError core.AddErrFunc
	// seen drops repeats: the walk visits a fragment's fields once per
	// spread and once more on its own.
	seen map[string]bool
}

func newWithholder(obs *core.Events, addError core.AddErrFunc, inner []core.Rule) *withholder {
	w := &withholder{addError: addError, seen: map[string]bool{}}
	for _, r := range inner {
		r.RuleFunc(obs, w.hold)
	}
	return w
}

func (w *withholder) hold(opts ...core.ErrorOption) {
	e := &gqlerror.Error{}
	for _, o := range opts {
		o(e)
	}
	w.held = append(w.held, e)
}

func (w *withholder) take() []*gqlerror.Error {
	errs := w.held
	w.held = nil
	return errs
}

// report adds one error at pos saying format, naming field (the argument
// or variable the caller wrote) in its extensions, with errs' messages
// withheld; nothing when errs is empty.
func (w *withholder) report(pos *ast.Position, field string, errs []*gqlerror.Error, format string, args ...any) {
	if len(errs) == 0 {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if pos != nil {
		key := fmt.Sprintf("%d:%d %s", pos.Line, pos.Column, msg)
		if w.seen[key] {
			return
		}
		w.seen[key] = true
	}
	opts := []core.ErrorOption{core.Message("%s", msg), core.At(pos), withhold(errs)}
	if field != "" {
		opts = append(opts, func(e *gqlerror.Error) { e.Extensions = map[string]any{"field": field} })
	}
	w.addError(opts...)
}

// unexpected reports errors raised where no argument can be named, each
// at its own location.
func (w *withholder) unexpected(errs []*gqlerror.Error) {
	for _, e := range errs {
		pos := &ast.Position{Src: &ast.Source{}}
		if len(e.Locations) > 0 {
			pos.Line, pos.Column = e.Locations[0].Line, e.Locations[0].Column
		}
		w.report(pos, "", []*gqlerror.Error{e}, "invalid input")
	}
}

type pendingValue struct {
	value *ast.Value
	errs  []*gqlerror.Error
}

// takeWithin removes from pending the values inside root (root included)
// and returns their errors.
func takeWithin(pending *[]pendingValue, root *ast.Value) []*gqlerror.Error {
	var errs []*gqlerror.Error
	kept := (*pending)[:0]
	for _, p := range *pending {
		if contains(root, p.value) {
			errs = append(errs, p.errs...)
		} else {
			kept = append(kept, p)
		}
	}
	*pending = kept
	return errs
}

func contains(root, v *ast.Value) bool {
	if root == nil {
		return false
	}
	if root == v {
		return true
	}
	for _, c := range root.Children {
		if contains(c.Value, v) {
			return true
		}
	}
	return false
}

// withheldDetail carries what an error does not say to the presenter,
// which logs it.
type withheldDetail struct{ messages []string }

func (d *withheldDetail) Error() string { return strings.Join(d.messages, "; ") }

func withhold(errs []*gqlerror.Error) core.ErrorOption {
	d := &withheldDetail{}
	for _, e := range errs {
		d.messages = append(d.messages, e.Message)
	}
	return func(err *gqlerror.Error) { err.Err = d }
}

// logWithheld logs the detail an error does not show and drops it from
// the error; it reports whether there was any.
func logWithheld(ctx context.Context, log *slog.Logger, gerr *gqlerror.Error) bool {
	var d *withheldDetail
	if !errors.As(gerr.Err, &d) {
		return false
	}
	logger(ctx, log).InfoContext(ctx, "error detail withheld", "message", gerr.Message, "detail", d.Error())
	gerr.Err = nil
	return true
}

// withholdCoercion words a variable's coercion error in production: it
// would walk the variable's input type (naming the next required field,
// the enum's type), so it names the variable only.
func withholdCoercion(ctx context.Context, log *slog.Logger, gerr *gqlerror.Error) {
	name := ""
	if len(gerr.Path) > 1 {
		if n, ok := gerr.Path[1].(ast.PathName); ok {
			name = string(n)
		}
	}
	logger(ctx, log).InfoContext(ctx, "error detail withheld", "variable", name, "detail", gerr.Error())
	gerr.Message = fmt.Sprintf(`invalid input for variable "$%s"`, name)
	gerr.Extensions = map[string]any{"code": crm.EINVALID, "field": name}
	gerr.Path = nil
}

// withholdSuggestion is the last line: should a validation rule still
// suggest (a rule gqlparser adds some day), the suggestion is cut off and
// logged as a fault of ours.
func withholdSuggestion(ctx context.Context, log *slog.Logger, gerr *gqlerror.Error) {
	if i := strings.Index(gerr.Message, " Did you mean "); i >= 0 {
		logger(ctx, log).WarnContext(ctx, "a validation rule suggested in production; suggestion withheld",
			"rule", gerr.Rule, "message", gerr.Message)
		gerr.Message = gerr.Message[:i]
	}
}
