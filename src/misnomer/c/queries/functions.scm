; Facts about function definitions and their bodies, read by misnomer/c/extract.py.
; tests/test_queries.py checks that every capture name here is read there, so a renamed capture
; cannot silently blind the extractor.
;
; Kept lean on purpose: running a query costs a walk of the whole tree plus one Python object per
; captured node, so anything Python can read cheaply off the source text (an operator, the first
; argument of a call) is not captured.

; --- definitions -------------------------------------------------------------------------
(function_definition) @function

(function_definition
  declarator: (function_declarator
    declarator: (identifier) @function.name
    parameters: (parameter_list) @function.params))
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @function.name
      parameters: (parameter_list) @function.params)))
(function_definition
  declarator: (pointer_declarator
    declarator: (pointer_declarator
      declarator: (function_declarator
        declarator: (identifier) @function.name
        parameters: (parameter_list) @function.params))))

; file-scope variables: a write to one of these is a write to global state
(translation_unit (declaration declarator: [
    (identifier) @global
    (pointer_declarator declarator: (identifier) @global)
    (array_declarator declarator: (identifier) @global)
    (init_declarator declarator: [
      (identifier) @global
      (pointer_declarator declarator: (identifier) @global)
      (array_declarator declarator: (identifier) @global)])]))
(preproc_ifdef (declaration declarator: [
    (identifier) @global
    (pointer_declarator declarator: (identifier) @global)
    (array_declarator declarator: (identifier) @global)
    (init_declarator declarator: [
      (identifier) @global
      (pointer_declarator declarator: (identifier) @global)
      (array_declarator declarator: (identifier) @global)])]))
(preproc_if (declaration declarator: [
    (identifier) @global
    (pointer_declarator declarator: (identifier) @global)
    (array_declarator declarator: (identifier) @global)
    (init_declarator declarator: [
      (identifier) @global
      (pointer_declarator declarator: (identifier) @global)
      (array_declarator declarator: (identifier) @global)])]))
(preproc_else (declaration declarator: [
    (identifier) @global
    (pointer_declarator declarator: (identifier) @global)
    (array_declarator declarator: (identifier) @global)
    (init_declarator declarator: [
      (identifier) @global
      (pointer_declarator declarator: (identifier) @global)
      (array_declarator declarator: (identifier) @global)])]))
(preproc_elif (declaration declarator: [
    (identifier) @global
    (pointer_declarator declarator: (identifier) @global)
    (array_declarator declarator: (identifier) @global)
    (init_declarator declarator: [
      (identifier) @global
      (pointer_declarator declarator: (identifier) @global)
      (array_declarator declarator: (identifier) @global)])]))

; local variables: an assignment to a name that neither a declaration in the function nor a
; parameter introduces writes a global declared elsewhere (`extern`)
(compound_statement (declaration declarator: (_) @local))
(for_statement initializer: (declaration declarator: (_) @local))
(preproc_ifdef (declaration declarator: (_) @local))
(preproc_if (declaration declarator: (_) @local))
(preproc_else (declaration declarator: (_) @local))

; local arrays: `buf[i] = x` writes a local, unlike `p[i] = x` through a pointer
(declaration declarator: (array_declarator declarator: (identifier) @array))
(declaration declarator: (init_declarator declarator: (array_declarator declarator: (identifier) @array)))

; --- calls, writes, returns --------------------------------------------------------------
(call_expression function: (identifier) @call)
(call_expression function: (field_expression) @call.member)

; writes through pointers, fields and subscripts; writes to plain names only matter when the
; name is a file-scope variable, which extract.py checks cheaply
(assignment_expression
  left: [(field_expression) (pointer_expression) (subscript_expression) (parenthesized_expression)
         (call_expression)] @write)
(update_expression
  argument: [(field_expression) (pointer_expression) (subscript_expression) (parenthesized_expression)
             (call_expression)] @write.update)
(assignment_expression left: (identifier) @write.name)
(update_expression argument: (identifier) @write.name)

(return_statement) @return

(gnu_asm_expression) @asm

; --- control flow ------------------------------------------------------------------------
(if_statement condition: (_) @if.condition consequence: (_) @branch.then)
(else_clause (_) @branch.else)
(switch_statement condition: (_) @switch.condition body: (_) @branch.switch)
(conditional_expression consequence: (_) @branch.ternary alternative: (_) @branch.ternary)

; jumps other than returns: how an arm ends is read off its last jump (cheaper than anchored
; patterns, which cost more than any other pattern here)
[(goto_statement) (continue_statement) (break_statement)] @jump

[(for_statement) (while_statement) (do_statement)] @loop
(labeled_statement label: (statement_identifier) @label)

; --- preprocessor variants ---------------------------------------------------------------
[(preproc_ifdef) (preproc_if)] @variant
[(preproc_else) (preproc_elif)] @variant.else

; --- functions installed in operation tables (.free = foo_free): their names are the table's
(initializer_pair designator: (field_designator) value: (identifier) @callback)
(initializer_pair designator: (field_designator) value: (pointer_expression argument: (identifier) @callback))
