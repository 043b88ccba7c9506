// RFC 9457 problems as the API answers them, and how a form shows their `errors`.

export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

/** An API refusal; `type` is stable and picks the translated message. */
export class ApiProblem extends Error {
  readonly problem: ProblemBody;
  constructor(problem: ProblemBody) {
    super(problem.detail || problem.title);
    this.name = 'ApiProblem';
    this.problem = problem;
  }
  get type(): string {
    return this.problem.type;
  }
  get status(): number {
    return this.problem.status;
  }
  /** The short name of the type: `urn:crm:problem:validation-failed` → `validation-failed`. */
  get code(): string {
    return this.problem.type.split(':').pop() ?? 'unknown';
  }
}

export function isProblem(value: unknown): value is ProblemBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ProblemBody).type === 'string' &&
    typeof (value as ProblemBody).status === 'number'
  );
}

/** `emails[0].address` → `['emails', 0, 'address']`, the name path of an Ant Design field. */
export function fieldPath(field: string): (string | number)[] {
  const path: (string | number)[] = [];
  for (const part of field.split('.')) {
    const re = /([^[\]]+)|\[(\d+)\]/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(part)) !== null) {
      if (m[1] !== undefined) path.push(m[1]);
      else if (m[2] !== undefined) path.push(Number(m[2]));
    }
  }
  return path;
}

/** A failure that is not a problem (network down, a proxy's HTML page). */
export function problemFrom(status: number, body: unknown): ApiProblem {
  if (isProblem(body)) return new ApiProblem(body);
  return new ApiProblem({
    type: status === 0 ? 'urn:crm:problem:network' : 'urn:crm:problem:unexpected',
    title: 'Unexpected answer',
    status,
    detail: '',
  });
}
