/**
 * The errors a recipe throws. Each extends a core class, so `instanceof ValidationError` and
 * `error.code` work as they do everywhere in tradecron; the class name says it came from a recipe.
 */

import { NotFoundError, ValidationError, type ValidationIssue } from "@tradecron/core";

/**
 * A recipe configuration that cannot work: weights that do not sum to 1, a negative amount, a cap
 * below the amount, a band out of range, an unknown symbol. `field` names the first offending
 * field as a dotted path (`legs.1.weight`), `issues` lists every problem found, and `recipe` says
 * which recipe rejected it (`autoInvest`, `rebalance`, ...). Code `VALIDATION`.
 */
export class RecipeConfigError extends ValidationError {
  /** The recipe (or `simulate`) whose configuration was rejected. */
  readonly recipe: string;

  constructor(recipe: string, issues: readonly ValidationIssue[], options: { cause?: unknown } = {}) {
    super(issues, { cause: options.cause, component: recipe });
    this.recipe = recipe;
  }
}

/** Builds a {@link RecipeConfigError} with one issue. */
export function configError(recipe: string, field: string, message: string): RecipeConfigError {
  return new RecipeConfigError(recipe, [{ field, message, code: "VALIDATION" }]);
}

/**
 * A plan (an approval group) that does not exist or belongs to another recipe. Code `NOT_FOUND`.
 * A plan that exists but was already decided or has expired is core's ConflictError
 * `APPROVAL_GROUP_NOT_PENDING` instead.
 */
export class PlanNotFoundError extends NotFoundError {
  constructor(groupId: string, options: { cause?: unknown } = {}) {
    super("NOT_FOUND", `no pending plan '${groupId}'`, {
      field: "groupId",
      details: { groupId },
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
  }
}
