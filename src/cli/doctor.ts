// `vin-ocr doctor`: placeholder until the hardware core lands (issue 2).
export async function runDoctor(_args: string[]): Promise<number> {
  process.stderr.write('vin-ocr doctor: not implemented yet\n');
  return 2;
}
